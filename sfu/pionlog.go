package sfu

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pion/logging"
)

// pionLogs is the logger factory of every connection's Pion: its errors become warnings of the
// server's log and its warnings debug lines, with the Pion scope ("ice", "dtls", …);
// informational and trace output, which Pion's default factory drops too, is dropped. One
// logger per scope serves every connection: Pion's default factory made each connection its
// own set.
type pionLogs struct {
	log    *slog.Logger
	scopes sync.Map // scope → *pionLogger
}

func newPionLogs(log *slog.Logger) *pionLogs {
	if log == nil {
		log = slog.Default()
	}
	return &pionLogs{log: log}
}

// NewLogger implements logging.LoggerFactory.
func (f *pionLogs) NewLogger(scope string) logging.LeveledLogger {
	if l, ok := f.scopes.Load(scope); ok {
		return l.(*pionLogger)
	}
	l, _ := f.scopes.LoadOrStore(scope, &pionLogger{log: f.log.With("pion", scope)})
	return l.(*pionLogger)
}

type pionLogger struct{ log *slog.Logger }

func (l *pionLogger) emit(level slog.Level, msg string) { l.log.Log(context.Background(), level, msg) }

func (l *pionLogger) emitf(level slog.Level, format string, args ...any) {
	if l.log.Enabled(context.Background(), level) {
		l.emit(level, fmt.Sprintf(format, args...))
	}
}

func (l *pionLogger) Trace(string)                      {}
func (l *pionLogger) Tracef(string, ...any)             {}
func (l *pionLogger) Debug(string)                      {}
func (l *pionLogger) Debugf(string, ...any)             {}
func (l *pionLogger) Info(string)                       {}
func (l *pionLogger) Infof(string, ...any)              {}
func (l *pionLogger) Warn(msg string)                   { l.emit(slog.LevelDebug, msg) }
func (l *pionLogger) Warnf(format string, args ...any)  { l.emitf(slog.LevelDebug, format, args...) }
func (l *pionLogger) Error(msg string)                  { l.emit(slog.LevelWarn, msg) }
func (l *pionLogger) Errorf(format string, args ...any) { l.emitf(slog.LevelWarn, format, args...) }

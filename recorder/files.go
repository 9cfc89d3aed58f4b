package recorder

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
)

// createFile is the default Config.OpenFile: create or truncate name for writing.
func createFile(name string) (io.WriteCloser, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
}

// syncer is what a written file offers to make its data durable.
type syncer interface{ Sync() error }

// syncWriter fsyncs w if it can be.
func syncWriter(w io.Writer) error {
	if s, ok := w.(syncer); ok {
		return s.Sync()
	}
	return nil
}

// syncDir fsyncs a directory so a rename or create in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// writeFileAtomic replaces path with data: written to a temporary file, fsynced, renamed over
// path, directory fsynced. Readers see the old or the new file, never a part.
func writeFileAtomic(path string, data []byte, create func(string) (io.WriteCloser, error)) error {
	tmp := path + ".tmp"
	f, err := create(tmp)
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = syncWriter(f)
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(tmp)
		return werr
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// countingWriter counts the bytes that reach the file, into the recorder's statistics.
type countingWriter struct {
	w     io.WriteCloser
	total *atomic.Int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.total.Add(int64(n))
	return n, err
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// safeName keeps the characters of s that are safe in a file name, at most n of them.
func safeName(s string, n int) string {
	s = unsafeName.ReplaceAllString(s, "")
	if len(s) > n {
		s = s[:n]
	}
	if s == "" {
		s = "x"
	}
	return s
}

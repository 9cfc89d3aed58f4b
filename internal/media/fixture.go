package media

import (
	"os"
	"path/filepath"
)

// Fixture returns the absolute path of testdata/<name> in the module, found by walking up from
// the working directory to the directory holding go.mod. Outside a module it returns
// testdata/<name> relative to the working directory.
func Fixture(name string) string {
	dir, err := os.Getwd()
	if err != nil {
		return filepath.Join("testdata", name)
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "testdata", name)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return filepath.Join(dir, "testdata", name)
		}
		d = parent
	}
}

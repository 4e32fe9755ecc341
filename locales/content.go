package locales

import (
	"errors"
	"io/fs"
	"os"
	"slices"
)

// Content returns the content files (the knowledge base under faq/, lexicon.yaml, ...)
// with the files of contentDir, when not empty, in place of the embedded files of the
// same name; files only contentDir has are added.
func Content(contentDir string) fs.FS {
	if contentDir == "" {
		return embedded
	}
	return overlay{top: os.DirFS(contentDir), base: embedded}
}

// overlay is a file system whose top files hide base files of the same name.
type overlay struct{ top, base fs.FS }

func (o overlay) Open(name string) (fs.File, error) {
	f, err := o.top.Open(name)
	if err == nil {
		if st, serr := f.Stat(); serr == nil && !st.IsDir() {
			return f, nil
		}
		f.Close()
	}
	return o.base.Open(name)
}

// ReadDir lists the union of both directories, sorted by name.
func (o overlay) ReadDir(name string) ([]fs.DirEntry, error) {
	top, terr := fs.ReadDir(o.top, name)
	base, berr := fs.ReadDir(o.base, name)
	if terr != nil && berr != nil {
		return nil, errors.Join(terr, berr)
	}
	seen := map[string]bool{}
	var out []fs.DirEntry
	for _, e := range append(top, base...) {
		if !seen[e.Name()] {
			seen[e.Name()] = true
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int {
		switch {
		case a.Name() < b.Name():
			return -1
		case a.Name() > b.Name():
			return 1
		}
		return 0
	})
	return out, nil
}

package logs

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	providerlogs "github.com/openfaas/faas-provider/logs"
)

// Filter selects records.
type Filter struct {
	// Functions keeps only these functions' files (all when empty).
	Functions []string
	// CallID keeps only records with this call_id (all when empty).
	CallID string
	// Since keeps only records at or after it (all when zero).
	Since time.Time
}

func (f Filter) keep(e Entry) bool {
	if f.CallID != "" && e.CallID() != f.CallID {
		return false
	}
	if !f.Since.IsZero() && e.Time.Before(f.Since) {
		return false
	}
	return true
}

// Files returns the ndjson files in dir the filter reads, by function name.
func (f Filter) Files(dir string) (map[string]string, error) {
	out := map[string]string{}
	if len(f.Functions) > 0 {
		for _, fn := range f.Functions {
			out[fn] = File(dir, fn)
		}
		return out, nil
	}
	matches, err := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	if err != nil {
		return nil, err
	}
	for _, m := range matches {
		out[strings.TrimSuffix(filepath.Base(m), ".ndjson")] = m
	}
	return out, nil
}

// Read returns the records the filter selects from dir, in time order.
func Read(dir string, f Filter) ([]Entry, error) {
	files, err := f.Files(dir)
	if err != nil {
		return nil, err
	}
	var all []Entry
	for _, path := range files {
		file, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		_, err = Scan(file, f, func(e Entry) { all = append(all, e) })
		file.Close()
		if err != nil {
			return nil, err
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	return all, nil
}

// Scan passes each selected record of r to fn and returns how many bytes of
// whole lines it read (a trailing partial line is left for later).
func Scan(r io.Reader, f Filter, fn func(Entry)) (int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var n int64
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			n += int64(len(line))
			if e, derr := Decode(line); derr == nil && f.keep(e) {
				fn(e)
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// Messages returns fn's last tail records (all when tail <= 0) since since,
// as OpenFaaS log messages.
func Messages(dir, fn string, since time.Time, tail int) ([]providerlogs.Message, error) {
	entries, err := Read(dir, Filter{Functions: []string{fn}, Since: since})
	if err != nil {
		return nil, err
	}
	if tail > 0 && len(entries) > tail {
		entries = entries[len(entries)-tail:]
	}
	out := make([]providerlogs.Message, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Message())
	}
	return out, nil
}

// Message converts the entry to an OpenFaaS log message.
func (e Entry) Message() providerlogs.Message {
	return providerlogs.Message{
		Name:      e.Str(FieldName),
		Namespace: Namespace,
		Instance:  e.Str(FieldInstance),
		Timestamp: e.Time,
		Text:      e.Text(),
	}
}

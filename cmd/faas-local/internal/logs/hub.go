// Package logs gathers the output of every function process into one
// stream: each line goes to the console as a readable line, and is appended
// to <state>/logs/<fn>.ndjson as one JSON object: the function's own object
// (or {"message": line} for a line that is not JSON) with the fields
// faas-local adds, fn_name, fn_instance, fn_stream and fn_time.
package logs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	providerlogs "github.com/openfaas/faas-provider/logs"
)

// Fields faas-local adds to every record.
const (
	FieldName     = "fn_name"
	FieldInstance = "fn_instance"
	FieldStream   = "fn_stream"
	FieldTime     = "fn_time"
	// FieldRaw marks a record made from a line that was not a JSON object.
	FieldRaw = "fn_raw"
)

// flushEvery bounds how long a line may wait in a buffer before it reaches
// its file.
const flushEvery = 100 * time.Millisecond

// Hub is the one log stream of a faas-local run. It is safe for concurrent use.
type Hub struct {
	dir     string
	console io.Writer

	mu    sync.Mutex
	files map[string]*bufio.Writer
	raw   map[string]*os.File
	subs  map[*subscription]struct{}
	done  chan struct{}
	wg    sync.WaitGroup
}

type subscription struct {
	fn string
	ch chan providerlogs.Message
}

// NewHub writes files into dir and readable lines to console (nil: none).
func NewHub(dir string, console io.Writer) (*Hub, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	h := &Hub{
		dir: dir, console: console,
		files: map[string]*bufio.Writer{}, raw: map[string]*os.File{},
		subs: map[*subscription]struct{}{}, done: make(chan struct{}),
	}
	h.wg.Add(1)
	go h.flushLoop()
	return h, nil
}

// Dir is the folder of the ndjson files.
func (h *Hub) Dir() string { return h.dir }

func (h *Hub) flushLoop() {
	defer h.wg.Done()
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-h.done:
			return
		case <-t.C:
			_ = h.Flush()
		}
	}
}

// Flush writes buffered lines to their files.
func (h *Hub) Flush() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var first error
	for _, w := range h.files {
		if err := w.Flush(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Close flushes and closes every file.
func (h *Hub) Close() error {
	close(h.done)
	h.wg.Wait()
	err := h.Flush()
	h.mu.Lock()
	defer h.mu.Unlock()
	for name, f := range h.raw {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = cerr
		}
		delete(h.raw, name)
		delete(h.files, name)
	}
	return err
}

// Writer returns a writer that splits what a function's process writes to
// stream (stdout or stderr) into lines and adds each to the hub.
func (h *Hub) Writer(fn, instance, stream string) io.Writer {
	return &lineWriter{hub: h, fn: fn, instance: instance, stream: stream}
}

// Add records one line of fn's output. When console is false the line only
// goes to the file and to subscribers.
func (h *Hub) Add(fn, instance, stream string, line []byte, at time.Time, console bool) {
	record := Record(line, fn, instance, stream, at)
	h.mu.Lock()
	w, err := h.file(fn)
	if err == nil {
		_, _ = w.Write(record)
	}
	if console && h.console != nil {
		_, _ = io.WriteString(h.console, Format(record))
	}
	if len(h.subs) > 0 {
		msg := providerlogs.Message{Name: fn, Namespace: Namespace, Instance: instance, Timestamp: at, Text: string(bytes.TrimSpace(line))}
		for s := range h.subs {
			if s.fn == fn {
				select {
				case s.ch <- msg:
				default: // a slow reader loses lines rather than stalling functions
				}
			}
		}
	}
	h.mu.Unlock()
}

// Namespace is the namespace faas-local's functions report, as OpenFaaS's.
const Namespace = "openfaas-fn"

// Subscribe returns the messages of fn added from now on, until cancel.
func (h *Hub) Subscribe(fn string) (<-chan providerlogs.Message, func()) {
	s := &subscription{fn: fn, ch: make(chan providerlogs.Message, 1024)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s.ch, func() {
		h.mu.Lock()
		delete(h.subs, s)
		h.mu.Unlock()
	}
}

func (h *Hub) file(fn string) (*bufio.Writer, error) {
	if w, ok := h.files[fn]; ok {
		return w, nil
	}
	f, err := os.OpenFile(File(h.dir, fn), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	h.files[fn], h.raw[fn] = w, f
	return w, nil
}

// File is the ndjson file of fn's lines in dir.
func File(dir, fn string) string { return filepath.Join(dir, fn+".ndjson") }

// Record builds the ndjson record (ending in a newline) of one line: the
// line's own JSON object with faas-local's fields appended, or an object
// holding the line as its message.
func Record(line []byte, fn, instance, stream string, at time.Time) []byte {
	line = bytes.TrimSpace(line)
	out := make([]byte, 0, len(line)+160)
	isObject := len(line) >= 2 && line[0] == '{' && line[len(line)-1] == '}' && json.Valid(line)
	if isObject {
		out = append(out, line[:len(line)-1]...)
		if len(bytes.TrimSpace(line[1:len(line)-1])) > 0 {
			out = append(out, ',')
		}
	} else {
		out = append(out, `{"message":`...)
		out = AppendString(out, string(line))
		out = append(out, ',')
	}
	out = append(out, `"`+FieldName+`":`...)
	out = AppendString(out, fn)
	out = append(out, `,"`+FieldInstance+`":`...)
	out = AppendString(out, instance)
	out = append(out, `,"`+FieldStream+`":`...)
	out = AppendString(out, stream)
	out = append(out, `,"`+FieldTime+`":"`...)
	out = at.UTC().AppendFormat(out, time.RFC3339Nano)
	out = append(out, '"')
	if !isObject {
		out = append(out, `,"`+FieldRaw+`":true`...)
	}
	out = append(out, "}\n"...)
	return out
}

// AppendString appends s to dst as a JSON string. Bytes that are not UTF-8
// become U+FFFD and control characters are escaped, so a record stays valid
// JSON whatever a function prints (strconv.Quote's \x escapes are not JSON).
func AppendString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return append(dst, b...)
}

// lineWriter splits a process's output into lines.
type lineWriter struct {
	hub                  *Hub
	fn, instance, stream string
	mu                   sync.Mutex
	partial              []byte
}

// maxLine bounds a line kept whole; longer ones are cut into pieces.
const maxLine = 1 << 20

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	now := time.Now()
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			if len(w.partial) >= maxLine {
				w.emit(w.partial, now)
				w.partial = w.partial[:0]
			}
			break
		}
		if len(w.partial) > 0 {
			w.partial = append(w.partial, p[:i]...)
			w.emit(w.partial, now)
			w.partial = w.partial[:0]
		} else {
			w.emit(p[:i], now)
		}
		p = p[i+1:]
	}
	return n, nil
}

func (w *lineWriter) emit(line []byte, at time.Time) {
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	w.hub.Add(w.fn, w.instance, w.stream, line, at, true)
}

// String describes the writer, for debugging.
func (w *lineWriter) String() string { return fmt.Sprintf("%s[%s] %s", w.fn, w.instance, w.stream) }

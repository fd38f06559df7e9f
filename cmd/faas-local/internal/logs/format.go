package logs

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Entry is one decoded record.
type Entry struct {
	// Fields are every field of the record.
	Fields map[string]any
	// Time is when faas-local read the line (fn_time), else the record's time.
	Time time.Time
	// Raw is the record as stored, without its newline.
	Raw string
}

// Decode parses one record.
func Decode(record []byte) (Entry, error) {
	e := Entry{Fields: map[string]any{}, Raw: strings.TrimRight(string(record), "\n")}
	if err := json.Unmarshal(record, &e.Fields); err != nil {
		return e, err
	}
	for _, k := range []string{FieldTime, "time"} {
		if s, ok := e.Fields[k].(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				e.Time = t
				break
			}
		}
	}
	return e, nil
}

// Str returns a string field, or "".
func (e Entry) Str(k string) string {
	switch v := e.Fields[k].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// CallID is the record's call_id.
func (e Entry) CallID() string { return e.Str("call_id") }

// Text is the function's own line: the record without faas-local's fields.
func (e Entry) Text() string {
	if e.Fields[FieldRaw] == true {
		return e.Str("message")
	}
	i := strings.LastIndex(e.Raw, `"`+FieldName+`":`)
	if i <= 0 {
		return e.Raw
	}
	head := strings.TrimRight(e.Raw[:i], " ")
	head = strings.TrimSuffix(head, ",")
	return head + "}"
}

// standard fields are shown in the fixed columns of a console line.
var standard = map[string]bool{
	"level": true, "time": true, "message": true, "msg": true, "service": true, "function": true,
	"call_id": true, FieldName: true, FieldInstance: true, FieldStream: true, FieldTime: true, FieldRaw: true,
}

// Format renders a record as one readable console line:
// time, function[instance], level, call id, message, then other fields.
func Format(record []byte) string {
	e, err := Decode(record)
	if err != nil {
		return string(record)
	}
	return e.Format()
}

// Format renders the entry as one readable console line.
func (e Entry) Format() string {
	var b strings.Builder
	t := e.Time
	if t.IsZero() {
		t = time.Now()
	}
	b.WriteString(t.Local().Format("15:04:05.000"))
	b.WriteByte(' ')
	name := e.Str(FieldName)
	if inst := e.Str(FieldInstance); inst != "" && inst != name {
		name += "[" + strings.TrimPrefix(inst, name+"-") + "]"
	}
	fmt.Fprintf(&b, "%-18s ", name)
	if e.Fields[FieldRaw] == true {
		b.WriteString(e.Str("message"))
		b.WriteByte('\n')
		return b.String()
	}
	level := strings.ToUpper(e.Str("level"))
	if level == "" {
		level = "-"
	}
	fmt.Fprintf(&b, "%-5s ", level)
	if id := e.CallID(); id != "" {
		b.WriteString("[" + id + "] ")
	}
	msg := e.Str("message")
	if msg == "" {
		msg = e.Str("msg")
	}
	b.WriteString(msg)
	var extra []string
	for k := range e.Fields {
		if !standard[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		v := e.Fields[k]
		var s string
		switch v := v.(type) {
		case string:
			s = v
			if strings.ContainsAny(s, " \t\"=") {
				s = fmt.Sprintf("%q", s)
			}
		default:
			raw, _ := json.Marshal(v)
			s = string(raw)
		}
		b.WriteString(" " + k + "=" + s)
	}
	b.WriteByte('\n')
	return b.String()
}

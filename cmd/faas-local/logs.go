package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/faas-shop/faas-shop/cmd/faas-local/internal/logs"
)

// runLogs implements `faas-local logs`.
func runLogs(args []string) int {
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	state := fs.String("state", ".faas-local", "faas-local's state folder")
	callID := fs.String("call-id", "", "print only the lines of this call id (X-Call-Id)")
	fns := fs.String("function", "", "print only these functions' lines (comma-separated; \"gateway\" is the gateway's own)")
	follow := fs.Bool("follow", false, "keep printing new lines as they come")
	raw := fs.Bool("raw", false, "print the stored ndjson records instead of readable lines")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: faas-local logs [--call-id ID] [--function NAME] [--follow] [--state DIR]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "faas-local logs: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	dir := filepath.Join(*state, "logs")
	if _, err := os.Stat(dir); err != nil {
		fmt.Fprintf(os.Stderr, "faas-local logs: no logs in %s: run faas-local there first, or pass --state\n", dir)
		return 1
	}
	filter := logs.Filter{CallID: *callID}
	if *fns != "" {
		filter.Functions = strings.Split(*fns, ",")
	}
	print := func(e logs.Entry) {
		if *raw {
			fmt.Println(e.Raw)
		} else {
			fmt.Print(e.Format())
		}
	}
	offsets := map[string]int64{}
	var entries []logs.Entry
	if err := readNew(dir, filter, offsets, func(e logs.Entry) { entries = append(entries, e) }); err != nil {
		fmt.Fprintln(os.Stderr, "faas-local logs:", err)
		return 1
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Time.Before(entries[j].Time) })
	for _, e := range entries {
		print(e)
	}
	if !*follow {
		if len(entries) == 0 && *callID != "" {
			fmt.Fprintf(os.Stderr, "faas-local logs: no line has call id %s\n", *callID)
		}
		return 0
	}
	for {
		time.Sleep(250 * time.Millisecond)
		var batch []logs.Entry
		if err := readNew(dir, filter, offsets, func(e logs.Entry) { batch = append(batch, e) }); err != nil {
			fmt.Fprintln(os.Stderr, "faas-local logs:", err)
			return 1
		}
		sort.SliceStable(batch, func(i, j int) bool { return batch[i].Time.Before(batch[j].Time) })
		for _, e := range batch {
			print(e)
		}
	}
}

// readNew passes each selected record written to the files since offsets.
func readNew(dir string, filter logs.Filter, offsets map[string]int64, fn func(logs.Entry)) error {
	files, err := filter.Files(dir)
	if err != nil {
		return err
	}
	for _, path := range files {
		f, err := os.Open(path)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		if st, err := f.Stat(); err == nil && st.Size() < offsets[path] {
			offsets[path] = 0 // the file was replaced
		}
		if _, err := f.Seek(offsets[path], io.SeekStart); err != nil {
			f.Close()
			return err
		}
		n, err := logs.Scan(f, filter, fn)
		f.Close()
		if err != nil {
			return err
		}
		offsets[path] += n
	}
	return nil
}

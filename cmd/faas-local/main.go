// Command faas-local runs faas-shop's stack.yml on one machine without
// Docker: it builds every function with its template's build.sh, runs each
// as its own process behind an OpenFaaS-compatible gateway, with an embedded
// NATS JetStream server and a PostgreSQL database per service.
//
//	faas-local [up] [-f stack.yml] [--state .faas-local] [--port 8080]
//	faas-local logs [--call-id ID] [--function NAME] [--follow] [--state .faas-local]
//
// Run `faas-local help` for every flag.
package main

import (
	"fmt"
	"os"
)

const usage = `faas-local runs a stack.yml locally: every function a process behind an
OpenFaaS-compatible gateway, with embedded NATS JetStream and PostgreSQL.

Usage:
  faas-local [up] [flags]     build what changed, start everything, run until Ctrl-C
  faas-local logs [flags]     print the functions' log lines, e.g. of one call id

Run "faas-local up -h" or "faas-local logs -h" for the flags.
`

func main() {
	args := os.Args[1:]
	cmd := "up"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var code int
	switch cmd {
	case "up":
		code = runUp(args)
	case "logs":
		code = runLogs(args)
	case "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "faas-local: unknown command %q\n\n%s", cmd, usage)
		code = 2
	}
	os.Exit(code)
}

// Command kagi is the passkey-first login service of a brokerage's trading site.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/kagi-auth/kagi/internal/cli"
)

func main() {
	if err := cli.Run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "kagi:", err)
		os.Exit(cli.ExitCode(err))
	}
}

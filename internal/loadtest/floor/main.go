// Command floor is the least a server can do and still answer kagi's passkey
// login as the load driver speaks it: a random challenge kept for one use, the
// assertion's client data, RP ID hash, UP/UV flags and counter checked, and
// the ES256 signature verified against the seeded public key, then a session
// cookie and GET /api/session (once: the driver reads it once). Everything is
// kept in memory: no database, no audit, no notice, no WebAuthn library.
//
// It is not a server for customers. It measures the floor under kagi's
// figures: how many logins a second the driver and the bare HTTP and
// signature work reach on this machine (see docs/PERFORMANCE.md).
//
//	go run ./internal/loadtest/floor --keys lt/loadtest-keys.jsonl --addr 127.0.0.1:8090 &
//	kagi loadtest --data lt --url http://localhost:8090 --concurrency 32 --duration 20s --pid $!
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"time"

	"github.com/kagi-auth/kagi/internal/loadtest"
)

func main() {
	keysPath := flag.String("keys", "kagi-data/"+loadtest.KeysFile, "the driver's keys file (kagi loadtest --seed N writes it)")
	addr := flag.String("addr", "127.0.0.1:8090", "loopback address to listen on")
	origin := flag.String("origin", "", "origin the driver uses (default: http://localhost:<port of --addr>)")
	flag.Parse()
	if err := run(*keysPath, *addr, *origin); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(keysPath, addr, origin string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if a, err := netip.ParseAddr(host); err != nil || !a.IsLoopback() {
		return fmt.Errorf("--addr must be a loopback address, got %q", addr)
	}
	if origin == "" {
		origin = "http://localhost:" + port
	}
	ks, err := loadtest.LoadKeys(keysPath)
	if err != nil {
		return err
	}
	h, err := newServer(ks, origin)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	log.Printf("floor server for %d keys on %s (origin %s)", len(ks.Keys), ln.Addr(), origin)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}

// publicKeys derives each seeded passkey's public key, by credential ID.
func publicKeys(ks *loadtest.KeySet) (map[string]*credential, error) {
	m := make(map[string]*credential, len(ks.Keys))
	for _, k := range ks.Keys {
		p, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), k.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("customer %s: %w", k.Code, err)
		}
		m[string(k.CredentialID)] = &credential{code: k.Code, userHandle: string(k.UserHandle), pub: &p.PublicKey}
	}
	return m, nil
}

package loadtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/kagi-auth/kagi/internal/store"
)

// SeedStore is what seeding needs of the store: sqlstore.DB's bulk insert,
// plus a lookup to check that a keys file belongs to the database.
type SeedStore interface {
	BulkCreateCustomers(ctx context.Context, cs []*store.Customer, ps []*store.Passkey) error
	CustomerByCode(ctx context.Context, code string) (*store.Customer, error)
	AppendAudit(ctx context.Context, e *store.AuditEntry) error
}

// Sealer encrypts TOTP secrets as the server does (secret.Keys).
type Sealer interface {
	Seal(plaintext, aad []byte) []byte
}

// SeedOptions configure Seed.
type SeedOptions struct {
	N         int    // customers wanted in total
	KeysPath  string // the keys file, created or extended
	RPID      string // the server's RP ID (host of its origin)
	FirstCode int64  // customer code of the first customer (default 900000000)
	// HashPassword computes the one password hash every seeded customer
	// shares (argon2id costs ~15 ms: a million would take four hours).
	HashPassword func(password string) (string, error)
	Sealer       Sealer
	Batch        int // customers per transaction (default 20,000)
	Now          func() time.Time
	Progress     io.Writer // a line per batch; nil for silence
}

// DefaultFirstCode is the customer code of the first seeded customer.
const DefaultFirstCode = 900000000

// Seed makes the store hold opts.N load-test customers, each with a verified
// e-mail address, the authenticator app as second factor and one passkey
// whose private key goes into the keys file. It continues a keys file that
// holds fewer customers and does nothing when it holds enough.
//
// Keys: one P-256 key per customer, not a shared pool, so that every
// passkey row, signature and public key is what a real population has.
// Generating them runs on every core and costs ~20 µs each.
func Seed(ctx context.Context, st SeedStore, opts SeedOptions) (*KeySet, error) {
	if opts.FirstCode == 0 {
		opts.FirstCode = DefaultFirstCode
	}
	if opts.Batch <= 0 {
		opts.Batch = 20000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	ks, err := LoadKeys(opts.KeysPath)
	switch {
	case errors.Is(err, os.ErrNotExist):
		secret, err := totp.Generate(totp.GenerateOpts{Issuer: "kagi-loadtest", AccountName: "loadtest", SecretSize: 20})
		if err != nil {
			return nil, err
		}
		pw := make([]byte, 18)
		rand.Read(pw)
		ks, err = createKeys(opts.KeysPath, Header{
			RPID: opts.RPID, FirstCode: opts.FirstCode, Password: "lt-" + b64.EncodeToString(pw),
			TOTPSecret: secret.Secret(), CreatedAt: opts.Now().UTC(),
		})
		if err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	if ks.RPID != opts.RPID {
		return nil, fmt.Errorf("%s holds passkeys for RP ID %q, not %q", ks.Path, ks.RPID, opts.RPID)
	}
	if n := len(ks.Keys); n > 0 {
		// The keys file must describe this database.
		last := ks.Keys[n-1]
		if _, err := st.CustomerByCode(ctx, last.Code); err != nil {
			return nil, fmt.Errorf("customer %s of %s is not in the database (%w): seed into a new keys file", last.Code, ks.Path, err)
		}
	}
	if len(ks.Keys) >= opts.N {
		fmt.Fprintf(opts.Progress, "%s already holds %d customers\n", ks.Path, len(ks.Keys))
		return ks, nil
	}
	hash, err := opts.HashPassword(ks.Password)
	if err != nil {
		return nil, err
	}
	start, from := time.Now(), len(ks.Keys)
	for len(ks.Keys) < opts.N {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := min(opts.Batch, opts.N-len(ks.Keys))
		keys, cs, ps, err := generate(ks, len(ks.Keys), n, hash, opts)
		if err != nil {
			return nil, err
		}
		if err := st.BulkCreateCustomers(ctx, cs, ps); err != nil {
			return nil, err
		}
		// Written after the commit: a key in the file always has its customer.
		if err := ks.appendKeys(keys); err != nil {
			return nil, err
		}
		el := time.Since(start)
		done := len(ks.Keys) - from
		fmt.Fprintf(opts.Progress, "seeded %d of %d customers (%.0f/s)\n", len(ks.Keys), opts.N, float64(done)/el.Seconds())
	}
	err = st.AppendAudit(ctx, &store.AuditEntry{
		At: opts.Now(), Actor: "cli", Event: "loadtest.seeded",
		Detail: fmt.Sprintf(`{"customers":%d,"first_code":%q,"last_code":%q}`, len(ks.Keys)-from, ks.Keys[from].Code, ks.Keys[len(ks.Keys)-1].Code),
	})
	return ks, err
}

// generate makes customers from..from+n-1: keys on every core, then the rows.
func generate(ks *KeySet, from, n int, hash string, opts SeedOptions) ([]*Key, []*store.Customer, []*store.Passkey, error) {
	keys := make([]*Key, n)
	coses := make([][]byte, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				code := strconv.FormatInt(ks.FirstCode+int64(from+i), 10)
				k, cose, err := newKey(code)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				keys[i], coses[i] = k, cose
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, nil, nil, firstErr
	}
	now := opts.Now()
	cs := make([]*store.Customer, n)
	ps := make([]*store.Passkey, n)
	for i, k := range keys {
		cs[i] = &store.Customer{
			Code: k.Code, PasswordHash: hash, Email: "lt" + k.Code + "@loadtest.invalid", EmailVerifiedAt: now,
			SecondFactor: store.FactorTOTP, TOTPSecret: opts.Sealer.Seal([]byte(ks.TOTPSecret), []byte("totp:"+k.Code)),
			UserHandle: k.UserHandle, Lang: "ja", CreatedAt: now,
		}
		ps[i] = &store.Passkey{
			CredentialID: k.CredentialID, PublicKey: coses[i], AAGUID: make([]byte, 16),
			Transports: []string{"hybrid", "internal"}, AttestationFormat: "none", Name: "負荷試験",
			CreatedAt: now, CreatedIP: "127.0.0.1", CreatedUserAgent: "kagi-loadtest",
		}
	}
	return keys, cs, ps, nil
}

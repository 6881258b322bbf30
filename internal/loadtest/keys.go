package loadtest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// KeysFile is the keys file's name in the data directory (--data) unless --keys names another.
const KeysFile = "loadtest-keys.jsonl"

// keysFormat marks the first line of a keys file.
const keysFormat = "kagi-loadtest-keys/1"

// Header is the first line of a keys file: what every seeded customer shares.
type Header struct {
	Format     string    `json:"format"`
	RPID       string    `json:"rp_id"`       // the RP ID the passkeys are bound to
	FirstCode  int64     `json:"first_code"`  // customer code of the first key; the i-th is FirstCode+i
	Password   string    `json:"password"`    // the one load-test password of every seeded customer
	TOTPSecret string    `json:"totp_secret"` // base32, shared by every seeded customer
	CreatedAt  time.Time `json:"created_at"`
}

// Key is one seeded customer and the passkey (an ES256 credential) the driver
// holds for them, as a line of the keys file.
type Key struct {
	Code         string `json:"code"`
	UserHandle   []byte `json:"user_handle"`
	CredentialID []byte `json:"credential_id"`
	PrivateKey   []byte `json:"private_key"` // the P-256 scalar (32 bytes)

	priv *ecdsa.PrivateKey // parsed on first use, by the one worker that owns the key
}

// signer returns the key's ECDSA private key, parsing it on first use.
func (k *Key) signer() (*ecdsa.PrivateKey, error) {
	if k.priv == nil {
		p, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), k.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("customer %s: %w", k.Code, err)
		}
		k.priv = p
	}
	return k.priv, nil
}

// KeySet is a loaded keys file.
type KeySet struct {
	Path string
	Header
	Keys []*Key
}

// LoadKeys reads a keys file.
func LoadKeys(path string) (*KeySet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ks := &KeySet{Path: path}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if line == 1 {
			if err := json.Unmarshal(sc.Bytes(), &ks.Header); err != nil || ks.Format != keysFormat {
				return nil, fmt.Errorf("%s is not a kagi loadtest keys file", path)
			}
			continue
		}
		k := new(Key)
		if err := json.Unmarshal(sc.Bytes(), k); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if len(k.PrivateKey) != 32 || len(k.CredentialID) == 0 || len(k.UserHandle) == 0 {
			return nil, fmt.Errorf("%s:%d: incomplete key", path, line)
		}
		ks.Keys = append(ks.Keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if line == 0 {
		return nil, fmt.Errorf("%s is empty", path)
	}
	return ks, nil
}

// createKeys starts a keys file holding only its header.
func createKeys(path string, h Header) (*KeySet, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	h.Format = keysFormat
	b, _ := json.Marshal(h)
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return &KeySet{Path: path, Header: h}, nil
}

// appendKeys adds keys to the end of the file and to ks.
func (ks *KeySet) appendKeys(keys []*Key) error {
	f, err := os.OpenFile(ks.Path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for _, k := range keys {
		b, err := json.Marshal(k)
		if err != nil {
			f.Close()
			return err
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	ks.Keys = append(ks.Keys, keys...)
	return nil
}

// state is what runs remember per key between runs, one uint32 each: the last
// signature counter a passkey signed (passkey mode) or the last TOTP time step
// a customer used (password mode). Each mode keeps its own file next to the
// keys file, so a passkey run and a password run may go on at the same time
// (but not two runs of one mode on one keys file).
type state struct {
	path string
	v    []atomic.Uint32
}

func statePath(keysPath, mode string) string { return keysPath + "." + mode + "-state" }

func loadState(path string, n int) (*state, error) {
	s := &state{path: path, v: make([]atomic.Uint32, n)}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	for i := 0; i < n && 4*i+4 <= len(b); i++ {
		s.v[i].Store(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return s, nil
}

// save writes the state atomically (a temporary file renamed over the old one).
func (s *state) save() error {
	b := make([]byte, 4*len(s.v))
	for i := range s.v {
		binary.LittleEndian.PutUint32(b[4*i:], s.v[i].Load())
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}

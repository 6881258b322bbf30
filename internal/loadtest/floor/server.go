package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/kagi-auth/kagi/internal/loadtest"
)

type credential struct {
	code       string
	userHandle string
	pub        *ecdsa.PublicKey

	mu      sync.Mutex
	counter uint32
}

type server struct {
	origin string
	rpID   string
	rpHash [32]byte
	creds  map[string]*credential

	mu         sync.Mutex
	challenges map[string]string // ceremony cookie → challenge, until used
	sessions   map[string]string // session cookie → customer code, until read
}

func newServer(ks *loadtest.KeySet, origin string) (http.Handler, error) {
	creds, err := publicKeys(ks)
	if err != nil {
		return nil, err
	}
	s := &server{origin: origin, rpID: ks.RPID, rpHash: sha256.Sum256([]byte(ks.RPID)), creds: creds,
		challenges: map[string]string{}, sessions: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login/passkey/options", s.options)
	mux.HandleFunc("POST /api/login/passkey", s.finish)
	mux.HandleFunc("GET /api/session", s.session)
	return mux, nil
}

var b64 = base64.RawURLEncoding

func random() string { return rand.Text() }

func (s *server) options(w http.ResponseWriter, r *http.Request) {
	var c [32]byte
	rand.Read(c[:])
	challenge := b64.EncodeToString(c[:])
	id := random()
	s.mu.Lock()
	s.challenges[id] = challenge
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "ceremony", Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	writeJSON(w, map[string]any{"publicKey": map[string]any{
		"challenge": challenge, "rpId": s.rpID, "timeout": 300000, "userVerification": "required",
	}})
}

type assertion struct {
	RawID    string `json:"rawId"`
	Type     string `json:"type"`
	Response struct {
		ClientDataJSON    string `json:"clientDataJSON"`
		AuthenticatorData string `json:"authenticatorData"`
		Signature         string `json:"signature"`
		UserHandle        string `json:"userHandle"`
	} `json:"response"`
}

func (s *server) finish(w http.ResponseWriter, r *http.Request) {
	challenge, ok := s.take(r, "ceremony", s.challenges) // one use, whatever the outcome
	if !ok {
		http.Error(w, "no ceremony", http.StatusBadRequest)
		return
	}
	var a assertion
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&a); err != nil || a.Type != "public-key" {
		http.Error(w, "bad assertion", http.StatusBadRequest)
		return
	}
	rawID, err1 := b64.DecodeString(a.RawID)
	cdj, err2 := b64.DecodeString(a.Response.ClientDataJSON)
	ad, err3 := b64.DecodeString(a.Response.AuthenticatorData)
	sig, err4 := b64.DecodeString(a.Response.Signature)
	uh, err5 := b64.DecodeString(a.Response.UserHandle)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || err5 != nil || len(ad) < 37 {
		http.Error(w, "bad assertion", http.StatusBadRequest)
		return
	}
	cred := s.creds[string(rawID)]
	if cred == nil || cred.userHandle != string(uh) {
		http.Error(w, "unknown passkey", http.StatusBadRequest)
		return
	}
	var cd struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
		Origin    string `json:"origin"`
	}
	if err := json.Unmarshal(cdj, &cd); err != nil || cd.Type != "webauthn.get" || cd.Challenge != challenge || cd.Origin != s.origin {
		http.Error(w, "bad client data", http.StatusBadRequest)
		return
	}
	const up, uv = 1 << 0, 1 << 2
	if !bytes.Equal(ad[:32], s.rpHash[:]) || ad[32]&(up|uv) != up|uv {
		http.Error(w, "bad authenticator data", http.StatusBadRequest)
		return
	}
	cdHash := sha256.Sum256(cdj)
	digest := sha256.Sum256(append(ad[:len(ad):len(ad)], cdHash[:]...))
	if !ecdsa.VerifyASN1(cred.pub, digest[:], sig) {
		http.Error(w, "bad signature", http.StatusBadRequest)
		return
	}
	counter := binary.BigEndian.Uint32(ad[33:37])
	cred.mu.Lock()
	fresh := counter > cred.counter
	if fresh {
		cred.counter = counter
	}
	cred.mu.Unlock()
	if !fresh {
		http.Error(w, "counter did not increase", http.StatusBadRequest)
		return
	}
	id := random()
	s.mu.Lock()
	s.sessions[id] = cred.code
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "session", Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	writeJSON(w, map[string]string{"status": "done"})
}

func (s *server) session(w http.ResponseWriter, r *http.Request) {
	// The driver reads its session once; forgetting it then keeps the map
	// from growing over a long run.
	code, ok := s.take(r, "session", s.sessions)
	if !ok {
		http.Error(w, "not logged in", http.StatusUnauthorized)
		return
	}
	writeJSON(w, map[string]string{"customer_code": code, "stage": "full"})
}

// take removes and returns the entry of m named by the request's cookie.
func (s *server) take(r *http.Request, cookie string, m map[string]string) (string, bool) {
	ck, err := r.Cookie(cookie)
	if err != nil {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := m[ck.Value]
	delete(m, ck.Value)
	return v, ok
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

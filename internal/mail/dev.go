package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/kagi-auth/kagi/internal/store"
)

// DevSender "delivers" by doing nothing: in development the outbox row marked
// sent is the mailbox, read through DevMailboxHTML and DevMailboxJSON (SPEC R1).
type DevSender struct{}

var _ Sender = DevSender{}

// Send accepts every mail.
func (DevSender) Send(context.Context, *store.Mail) error { return nil }

// devMailboxLimit bounds one page of the development mailbox.
const devMailboxLimit = 200

var devMailboxPage = template.Must(template.ParseFS(templateFS, "templates/devmailbox.html"))

type devMail struct {
	To, Subject, Body string
	SentAt            string // JST, for people
	SentAtISO         string // RFC 3339, for machines
}

// DevMailboxHTML serves a plain page of sent mail, newest first, filtered by
// ?to=ADDRESS. It has no script and no inline style, so it works under the
// site's strict CSP. Mount it only in development mode: it shows one-time codes.
func DevMailboxHTML(st store.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		to := strings.TrimSpace(r.URL.Query().Get("to"))
		mails, err := st.SentMail(r.Context(), to, devMailboxLimit)
		if err != nil {
			devError(w, r, err)
			return
		}
		data := struct {
			To    string
			Limit int
			Mails []devMail
		}{To: to, Limit: devMailboxLimit}
		for _, m := range mails {
			data.Mails = append(data.Mails, devMail{
				To: m.To, Subject: m.Subject, Body: m.Body,
				SentAt:    formatTime(LangJA, m.SentAt),
				SentAtISO: m.SentAt.In(tokyo).Format(time.RFC3339),
			})
		}
		var buf bytes.Buffer // render fully first: a template error must not leave half a page
		if err := devMailboxPage.Execute(&buf, data); err != nil {
			devError(w, r, err)
			return
		}
		devHeaders(w, "text/html; charset=utf-8")
		_, _ = w.Write(buf.Bytes())
	})
}

// DevMailboxJSON serves sent mail as a JSON array, newest first, each
// {"to","subject","body","sent_at"} with sent_at in RFC 3339; ?to=ADDRESS
// filters and at most 200 are returned. Browser tests read codes from it.
func DevMailboxJSON(st store.Store) http.Handler {
	type item struct {
		To      string `json:"to"`
		Subject string `json:"subject"`
		Body    string `json:"body"`
		SentAt  string `json:"sent_at"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		to := strings.TrimSpace(r.URL.Query().Get("to"))
		mails, err := st.SentMail(r.Context(), to, devMailboxLimit)
		if err != nil {
			devError(w, r, err)
			return
		}
		out := make([]item, 0, len(mails)) // [] rather than null when empty
		for _, m := range mails {
			out = append(out, item{m.To, m.Subject, m.Body, m.SentAt.In(tokyo).Format(time.RFC3339)})
		}
		body, err := json.Marshal(out)
		if err != nil {
			devError(w, r, err)
			return
		}
		devHeaders(w, "application/json; charset=utf-8")
		_, _ = w.Write(append(body, '\n'))
	})
}

func devHeaders(w http.ResponseWriter, contentType string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store") // the pages hold live one-time codes
	h.Set("X-Content-Type-Options", "nosniff")
}

func devError(w http.ResponseWriter, r *http.Request, err error) {
	slog.ErrorContext(r.Context(), "mail: dev mailbox", "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

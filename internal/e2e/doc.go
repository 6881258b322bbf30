// Package e2e holds kagi's real-browser end-to-end tests (issue 4): the real
// server from internal/testenv, Debian's Chromium driven through the DevTools
// protocol with github.com/chromedp/chromedp, and DevTools virtual
// authenticators standing in for the customer's passkey provider.
//
// Everything lives in _test.go files; this file only names the package.
// Screenshots of every journey's key pages land in test-artifacts/<TestName>/
// at the repository root (git-ignored); each test prints where.
//
// Outside CI a machine without Chromium skips these tests and says what to
// install (apt-get install chromium); with CI set they fail instead.
package e2e

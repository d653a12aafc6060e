// Package browser holds end-to-end tests that drive the examples/basic login
// application in a real headless Chromium through the DevTools protocol
// (github.com/chromedp/chromedp), and check what the browser does with the
// session cookie: which attributes it stores, when it sends the cookie and
// when it drops it.
//
// The tests build examples/basic with the go command and run the binary, so
// they need the Go toolchain and Chromium (Debian: apt-get install chromium).
// Without Chromium they are skipped, unless the environment variable CI is
// set, where they fail. Run them from this folder:
//
//	go test ./...
//	SCREENSHOT_DIR=/tmp go test -run TestLoginFlashLogout ./...   # keep the screenshot
//
// This is a module of its own so that chromedp never becomes a dependency
// of the sessions module.
package browser

//go:build go1.26

package sessions

import (
	"bytes"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/gorilla/securecookie"
)

// TestCodecSameBytesAsSecureCookieEncrypted makes crypto/rand deterministic
// (testing/cryptotest, Go 1.26) so that securecookie and Codec draw the same
// IV, and checks that the encrypted outputs are identical byte for byte.
func TestCodecSameBytesAsSecureCookieEncrypted(t *testing.T) {
	for _, kc := range codecKeyConfigs {
		ref := securecookie.New(kc.hash, kc.block).SetSerializer(securecookie.NopEncoder{})
		for i, payload := range []string{"x", "hello, world", strings.Repeat("0123456789", 12), strings.Repeat("0123456789", 50)} {
			cryptotest.SetGlobalRandom(t, uint64(i+1))
			want, err := ref.Encode("session", []byte(payload))
			if err != nil {
				t.Fatal(err)
			}
			ts := signedTimestamp([]byte(want))
			ours := NewCodec(kc.hash, kc.block).SetSerializer(securecookie.NopEncoder{}).
				setClock(func() time.Time { return time.Unix(ts, 0) })
			cryptotest.SetGlobalRandom(t, uint64(i+1))
			got, err := ours.appendEncode(nil, "session", []byte(payload))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, []byte(want)) {
				t.Fatalf("%s, %d-byte payload:\n got %s\nwant %s", kc.name, len(payload), got, want)
			}
			// Control: without the reset, the IV (so the output) differs.
			again, _ := ours.appendEncode(nil, "session", []byte(payload))
			if kc.encrypted == bytes.Equal(again, got) {
				t.Fatalf("%s: encrypted %v but repeated output equal %v", kc.name, kc.encrypted, !kc.encrypted)
			}
		}
	}
}

package sessions

import (
	"bytes"
	"cmp"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/fasthttp-sessions/sessions/internal/compact"
	"github.com/gorilla/securecookie"
)

const (
	// maxClockSkew is how far in the future (in seconds) a signed date may
	// lie: securecookie accepts any future date, which only a key holder
	// with a wrong clock can write and which would outlive MaxAge.
	maxClockSkew = 5 * 60

	keyAdvice = "generate 32 or 64 random bytes for the hash key and 32 for the block key " +
		"(openssl rand -hex 32, or securecookie.GenerateRandomKey(32))"
)

var (
	errNoCodecs         = fmt.Errorf("%w: no codecs configured", ErrInvalidKey)
	errNilCodec         = fmt.Errorf("%w: nil codec", ErrInvalidKey)
	errZeroCodec        = fmt.Errorf("%w: Codec not created by NewCodec", ErrInvalidKey)
	errMalformed        = fmt.Errorf("%w: malformed value", ErrCookieInvalid)
	errMacInvalid       = fmt.Errorf("%w: HMAC mismatch", ErrCookieInvalid)
	errTimestampInvalid = fmt.Errorf("%w: invalid timestamp", ErrCookieInvalid)
	errTimestampFuture  = fmt.Errorf("%w: timestamp is in the future", ErrCookieInvalid)
	errDecryptFailed    = fmt.Errorf("%w: value too short to decrypt", ErrCookieInvalid)
)

// Codec encodes and decodes signed, optionally encrypted values in exactly
// securecookie v1.1.2's format: the value is serialized, encrypted with
// AES-CTR under a random IV that is prepended (when a block key is set) and
// base64url encoded; the codec then signs "name|date|value" with
// HMAC-SHA256 and outputs base64url("date|value|mac"), padded. A value
// encoded by a securecookie.SecureCookie with the same keys and serializer
// decodes with a Codec, and the reverse.
//
// Differences from securecookie: errors wrap this package's sentinels; keys
// too short or of a wrong length are refused; a date more than five
// minutes in the future is invalid; the value given to Encode is never
// modified (securecookie encrypts a NopEncoder's []byte in place); only
// HMAC-SHA256 and AES are offered; HMAC state and buffers are pooled.
//
// Configure a Codec (MaxAge, MaxLength, SetSerializer) before first use;
// those methods are not safe for concurrent use. After that a *Codec is
// safe for concurrent use by multiple goroutines. A Codec must not be
// copied.
type Codec struct {
	block     cipher.Block // nil when values are not encrypted
	maxAge    int64
	maxLength int
	sz        securecookie.Serializer
	now       func() time.Time
	err       error     // configuration error, returned by every call
	macs      sync.Pool // of *codecMAC, keyed with the hash key
}

type codecMAC struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

// NewCodec returns a Codec configured like securecookie.New(hashKey,
// blockKey): HMAC-SHA256 keyed with hashKey; AES-CTR encryption when
// blockKey is not nil; MaxAge 30 days; MaxLength 4096; and
// CompactSerializer as the serializer (securecookie uses gob; call
// SetSerializer(securecookie.GobEncoder{}) to share values with
// gorilla/sessions).
//
// hashKey must be 16 bytes long at least (generate 32 or 64 random bytes);
// blockKey must be nil or 16, 24 or 32 bytes long (AES-128, -192 or -256;
// as in securecookie, an empty non-nil block key is an error, not "no
// encryption"). A key that breaks these rules is remembered as an error
// wrapping ErrInvalidKey, saying what is wrong and how to generate good
// keys, which every Encode and Decode returns.
func NewCodec(hashKey, blockKey []byte) *Codec {
	c := &Codec{maxAge: 86400 * 30, maxLength: 4096, sz: CompactSerializer{}, now: time.Now}
	switch {
	case len(hashKey) == 0:
		c.err = fmt.Errorf("%w: the hash key is empty; %s", ErrInvalidKey, keyAdvice)
	case len(hashKey) < 16:
		c.err = fmt.Errorf("%w: the hash key is %d bytes, too short for HMAC-SHA256 (16 at least); %s", ErrInvalidKey, len(hashKey), keyAdvice)
	case blockKey != nil && len(blockKey) == 0:
		c.err = fmt.Errorf("%w: the block key is empty (nil means no encryption); %s", ErrInvalidKey, keyAdvice)
	case blockKey != nil:
		var err error
		if c.block, err = aes.NewCipher(blockKey); err != nil {
			c.err = fmt.Errorf("%w: the block key is %d bytes, AES needs 16, 24 or 32; %s", ErrInvalidKey, len(blockKey), keyAdvice)
		}
	}
	key := bytes.Clone(hashKey)
	c.macs.New = func() any { return &codecMAC{h: hmac.New(sha256.New, key)} }
	return c
}

// codecsFromPairs returns one Codec per pair of keys, like
// securecookie.CodecsFromPairs: hashKey1, blockKey1, hashKey2, ...; a
// missing last block key means no encryption.
func codecsFromPairs(keyPairs ...[]byte) []securecookie.Codec {
	codecs := make([]securecookie.Codec, 0, (len(keyPairs)+1)/2)
	for i := 0; i < len(keyPairs); i += 2 {
		var blockKey []byte
		if i+1 < len(keyPairs) {
			blockKey = keyPairs[i+1]
		}
		codecs = append(codecs, NewCodec(keyPairs[i], blockKey))
	}
	return codecs
}

// MaxAge sets the maximum age, in seconds, of the values Decode accepts:
// an older one is rejected with an error wrapping ErrCookieExpired. 0
// disables the check; a negative age, as in securecookie, makes every value
// not dated in the future expired. The default is 30 days.
func (c *Codec) MaxAge(age int) *Codec {
	c.maxAge = int64(age)
	return c
}

// MaxLength sets the maximum length, in bytes, of an encoded value: Encode
// refuses to produce a longer one and Decode refuses to read one, both with
// an error wrapping ErrCookieTooLong. 0 means no limit. The default is 4096.
func (c *Codec) MaxLength(l int) *Codec {
	c.maxLength = l
	return c
}

// SetSerializer sets how values are turned into bytes and back; nil
// restores the default, CompactSerializer{}. Decode hands the serializer a
// freshly allocated slice that the codec does not touch again, so a
// serializer may keep it (securecookie.NopEncoder does).
func (c *Codec) SetSerializer(sz securecookie.Serializer) *Codec {
	c.sz = cmp.Or(sz, securecookie.Serializer(CompactSerializer{}))
	return c
}

// setClock sets the clock that dates values and checks their age; nil
// restores time.Now.
func (c *Codec) setClock(now func() time.Time) *Codec {
	if c.now = now; now == nil {
		c.now = time.Now
	}
	return c
}

// Encode serializes, optionally encrypts, dates and signs value for the
// cookie called name, and returns the encoded value. It implements
// securecookie.Codec.
func (c *Codec) Encode(name string, value any) (string, error) {
	b, err := c.appendEncode(nil, name, value)
	return unsafe.String(unsafe.SliceData(b), len(b)), err
}

// Decode verifies and decodes value, an encoded value of the cookie called
// name, into dst (a pointer, as the serializer wants it). It implements
// securecookie.Codec. Errors wrap ErrCookieTooLong (longer than
// MaxLength), ErrCookieExpired (signed longer than MaxAge ago),
// ErrInvalidKey (misconfigured) or ErrCookieInvalid (anything else; the
// cause, where there is one, is wrapped too), except when the serializer
// left out some values it could not decode (see CompactSerializer): then
// dst holds the others and the error wraps ErrDeserialize.
func (c *Codec) Decode(name, value string, dst any) error {
	// The bytes are only read, never written or kept.
	_, err := decodeAny([]securecookie.Codec{c}, name, unsafe.Slice(unsafe.StringData(value), len(value)), dst)
	return err
}

// appendEncode is Encode appending to dst; on error it returns dst.
func (c *Codec) appendEncode(dst []byte, name string, value any) ([]byte, error) {
	if err := c.check(); err != nil {
		return dst, err
	}
	buf := getBuffer()
	defer putBuffer(buf)
	var err error
	if buf.B, err = c.serialize(buf.B[:0], value); err != nil {
		return dst, err
	}
	return c.seal(buf, dst, name, buf.B)
}

// serialize appends the serialization of value to dst; errors wrap
// ErrSerialize.
func (c *Codec) serialize(dst []byte, value any) ([]byte, error) {
	if _, ok := c.sz.(CompactSerializer); ok {
		return compact.Append(dst, value)
	}
	b, err := c.sz.Serialize(value)
	if err != nil {
		return dst, sentinelError(ErrSerialize, err)
	}
	return append(dst, b...), nil
}

// deserialize decodes plain, from openPlain, into dst; plain must not be
// modified afterwards (decoded strings may share it). Errors wrap
// ErrCookieInvalid, but for a *compact.DroppedError, returned as it is.
func (c *Codec) deserialize(plain []byte, dst any) error {
	var err error
	if _, ok := c.sz.(CompactSerializer); ok {
		err = compact.Decode(plain, dst) // no copy: plain is ours
	} else {
		err = c.sz.Deserialize(plain, dst)
	}
	if err == nil {
		return nil
	} else if dv := asDropped(err); dv != nil {
		return dv
	}
	return sentinelError(ErrCookieInvalid, err)
}

// sealPlain optionally encrypts plain (a serialized value), dates and signs
// it for the cookie called name, and appends the encoded value to dst; on
// error it returns dst.
func (c *Codec) sealPlain(dst []byte, name string, plain []byte) ([]byte, error) {
	buf := getBuffer()
	defer putBuffer(buf)
	return c.seal(buf, dst, name, plain)
}

// seal is sealPlain working in buf after what it holds (plain may be there).
func (c *Codec) seal(buf *buffer, dst []byte, name string, plain []byte) ([]byte, error) {
	if err := c.check(); err != nil {
		return dst, err
	}
	b, raw := buf.B, plain
	if at := len(b); c.block != nil { // the IV, then the ciphertext
		b = append(b, make([]byte, aes.BlockSize+len(plain))...)
		_, _ = rand.Read(b[at : at+aes.BlockSize]) // never fails (Go 1.24+)
		cipher.NewCTR(c.block, b[at:at+aes.BlockSize]).XORKeyStream(b[at+aes.BlockSize:], plain)
		raw = b[at:]
	}
	// "name|date|base64(value)", signed, then "|mac".
	start := len(b)
	b = append(strconv.AppendInt(append(append(b, name...), '|'), c.now().Unix(), 10), '|')
	b = base64.URLEncoding.AppendEncode(b, raw)
	mac := c.macs.Get().(*codecMAC)
	mac.h.Reset()
	mac.h.Write(b[start:])
	b = mac.h.Sum(append(b, '|'))
	c.macs.Put(mac)
	buf.B = b
	inner := b[start+len(name)+1:]
	if n := base64.URLEncoding.EncodedLen(len(inner)); c.maxLength != 0 && n > c.maxLength {
		return dst, fmt.Errorf("%w: %d bytes, MaxLength is %d", ErrCookieTooLong, n, c.maxLength)
	}
	return base64.URLEncoding.AppendEncode(dst, inner), nil
}

// openPlain verifies value, an encoded value of the cookie called name
// (only read, not kept), and returns the serialized value it holds, in a
// new slice, and the Unix time at which it was signed.
func (c *Codec) openPlain(name string, value []byte) (plain []byte, ts int64, err error) {
	if err := c.check(); err != nil {
		return nil, 0, err
	}
	if c.maxLength != 0 && len(value) > c.maxLength {
		return nil, 0, fmt.Errorf("%w: %d bytes, MaxLength is %d", ErrCookieTooLong, len(value), c.maxLength)
	}
	buf := getBuffer()
	defer putBuffer(buf)
	// Decode "date|value|mac" from base64 behind "name|".
	b := append(append(buf.B[:0], name...), '|')
	pre := len(b)
	b, err = base64.URLEncoding.AppendDecode(b, value)
	buf.B = b
	if err != nil {
		return nil, 0, fmt.Errorf("%w: base64: %w", ErrCookieInvalid, err)
	}
	d := b[pre:]
	i := bytes.IndexByte(d, '|')
	j := i + 1 + bytes.IndexByte(d[i+1:], '|')
	if i < 0 || j <= i {
		return nil, 0, errMalformed
	}
	mac := c.macs.Get().(*codecMAC)
	mac.h.Reset()
	mac.h.Write(b[:pre+j])
	ok := hmac.Equal(mac.h.Sum(mac.sum[:0]), d[j+1:])
	c.macs.Put(mac)
	if !ok {
		return nil, 0, errMacInvalid
	}
	now := c.now().Unix()
	switch ts, err = strconv.ParseInt(string(d[:i]), 10, 64); {
	case err != nil:
		return nil, 0, errTimestampInvalid
	case ts > now+maxClockSkew:
		return nil, 0, errTimestampFuture
	case c.maxAge != 0 && ts < now-c.maxAge:
		return nil, 0, fmt.Errorf("%w: signed %d s ago, MaxAge is %d s", ErrCookieExpired, now-ts, c.maxAge)
	}
	// Decode the value into a new slice and decrypt it (optional) in place.
	v := d[i+1 : j]
	raw, err := base64.URLEncoding.AppendDecode(make([]byte, 0, base64.URLEncoding.DecodedLen(len(v))), v)
	switch {
	case err != nil:
		return nil, 0, fmt.Errorf("%w: base64 value: %w", ErrCookieInvalid, err)
	case c.block == nil:
		return raw, ts, nil
	case len(raw) <= aes.BlockSize:
		return nil, 0, errDecryptFailed
	}
	cipher.NewCTR(c.block, raw[:aes.BlockSize]).XORKeyStream(raw[aes.BlockSize:], raw[aes.BlockSize:])
	return raw[aes.BlockSize:], ts, nil
}

// check returns the configuration error, if any.
func (c *Codec) check() error {
	switch {
	case c == nil:
		return errNilCodec
	case c.err != nil:
		return c.err
	case c.macs.New == nil:
		return errZeroCodec
	}
	return nil
}

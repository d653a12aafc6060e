package sessions

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/gorilla/securecookie"
)

// Defaults shared with securecookie.New.
const (
	codecDefaultMaxAge    = 86400 * 30 // seconds
	codecDefaultMaxLength = 4096       // bytes of encoded value

	// maxClockSkew is how far in the future (in seconds) a signed timestamp
	// may lie before Decode rejects it. securecookie v1.1.2 (with its default
	// MinAge of 0) accepts any future timestamp; this codec tolerates clock
	// differences between servers but refuses values dated further ahead,
	// which only a key holder with a wrong clock can produce and which would
	// otherwise outlive MaxAge.
	maxClockSkew = 5 * 60

	// maxPooledBuffer bounds the scratch buffers kept in a codec's pool, so
	// that one huge value (with MaxLength 0) does not pin memory forever.
	maxPooledBuffer = 64 << 10

	// inlineCTRMax is the longest payload that xorCTR encrypts block by
	// block. cipher.NewCTR allocates a 512-byte keystream buffer per call
	// and is faster only for longer payloads (measured crossover: about
	// 128 bytes).
	inlineCTRMax = 128
)

var (
	errNoCodecs         = fmt.Errorf("%w: no codecs configured", ErrInvalidKey)
	errNilCodec         = fmt.Errorf("%w: nil codec", ErrInvalidKey)
	errZeroCodec        = fmt.Errorf("%w: Codec not created by NewCodec", ErrInvalidKey)
	errHashKeyNotSet    = fmt.Errorf("%w: hash key is not set", ErrInvalidKey)
	errMalformed        = fmt.Errorf("%w: malformed value", ErrCookieInvalid)
	errMacInvalid       = fmt.Errorf("%w: HMAC mismatch", ErrCookieInvalid)
	errTimestampInvalid = fmt.Errorf("%w: invalid timestamp", ErrCookieInvalid)
	errTimestampFuture  = fmt.Errorf("%w: timestamp is in the future", ErrCookieInvalid)
	errDecryptFailed    = fmt.Errorf("%w: value too short to decrypt", ErrCookieInvalid)
)

// appendSerializer is implemented by serializers (such as CompactSerializer)
// that can append their output to a caller's buffer; Codec uses it to
// serialize straight into pooled scratch space.
type appendSerializer interface {
	AppendSerialize(dst []byte, src interface{}) ([]byte, error)
}

// Codec encodes and decodes signed, optionally encrypted values in exactly
// securecookie v1.1.2's format: the value is serialized, encrypted with
// AES-CTR under a random IV that is prepended (when a block key is set) and
// base64url encoded; the codec then signs "name|date|value" with
// HMAC-SHA256 and outputs base64url("date|value|mac"), padded. A value
// encoded by a securecookie.SecureCookie with the same keys and serializer
// decodes with a Codec, and the reverse.
//
// Differences from securecookie: errors wrap this package's sentinels
// (ErrCookieInvalid, ErrCookieExpired, ErrCookieTooLong, ErrSerialize,
// ErrInvalidKey); a timestamp more than five minutes in the future is
// rejected as invalid (securecookie accepts any future date); the value
// passed to Encode is never modified (securecookie encrypts the
// serializer's output in place, which with NopEncoder is the caller's
// slice); only HMAC-SHA256 and AES are offered (securecookie's HashFunc,
// BlockFunc and MinAge have no counterpart); and HMAC state and scratch
// buffers are pooled, so Encode and Decode allocate far less.
//
// Configure a Codec (MaxAge, MaxLength, SetSerializer, SetClock) before
// first use; those methods are not safe for concurrent use. After that a
// *Codec is safe for concurrent use by multiple goroutines. A Codec must
// not be copied.
type Codec struct {
	block     cipher.Block // nil when values are not encrypted
	ivLen     int
	maxAge    int64
	maxLength int
	sz        securecookie.Serializer
	asz       appendSerializer // sz, when it can append; else nil
	now       func() time.Time
	err       error     // configuration error, returned by every call
	pool      sync.Pool // of *codecState
}

// codecState is the per-call scratch space: an HMAC keyed with the hash key
// and two buffers.
type codecState struct {
	mac hash.Hash
	sum [sha256.Size]byte
	ctr [aes.BlockSize]byte // counter block for xorCTR
	ks  [aes.BlockSize]byte // keystream block for xorCTR
	buf []byte              // "name|date|value|mac"
	raw []byte              // serialized (and encrypted) payload
}

var _ securecookie.Codec = (*Codec)(nil)

var codecZeroIV [aes.BlockSize]byte

// NewCodec returns a Codec configured like securecookie.New(hashKey,
// blockKey): HMAC-SHA256 keyed with hashKey; AES-CTR encryption when
// blockKey is non-nil, in which case it must be 16, 24 or 32 bytes long
// (AES-128, -192 or -256; like securecookie, a non-nil empty block key is
// an error, not "no encryption"); MaxAge 30 days; MaxLength 4096; and
// CompactSerializer as the serializer (securecookie uses gob; call
// SetSerializer(securecookie.GobEncoder{}) to read and write values that
// gorilla/sessions can share).
//
// A configuration error (empty hash key, bad block key) is remembered and
// returned, wrapping ErrInvalidKey, by every Encode and Decode.
func NewCodec(hashKey, blockKey []byte) *Codec {
	c := &Codec{
		maxAge:    codecDefaultMaxAge,
		maxLength: codecDefaultMaxLength,
		now:       time.Now,
	}
	c.SetSerializer(nil)
	if len(hashKey) == 0 {
		c.err = errHashKeyNotSet
		return c
	}
	if blockKey != nil {
		block, err := aes.NewCipher(blockKey)
		if err != nil {
			c.err = fmt.Errorf("%w: block key: %w", ErrInvalidKey, err)
			return c
		}
		c.block = block
		c.ivLen = block.BlockSize()
	}
	key := append([]byte(nil), hashKey...)
	c.pool.New = func() interface{} {
		return &codecState{mac: hmac.New(sha256.New, key)}
	}
	return c
}

// CodecsFromPairs returns one Codec per pair of hash and block keys, like
// securecookie.CodecsFromPairs: keyPairs is hashKey1, blockKey1, hashKey2,
// blockKey2, ...; a missing last block key means no encryption for that
// pair. The first codec encodes; all of them are tried to decode, which is
// how keys are rotated: put the new pair first and keep the old ones after
// it until the values they signed have expired. The codecs have the default
// options; type-assert them to *Codec to change them.
func CodecsFromPairs(keyPairs ...[]byte) []securecookie.Codec {
	codecs := make([]securecookie.Codec, len(keyPairs)/2+len(keyPairs)%2)
	for i := 0; i < len(keyPairs); i += 2 {
		var blockKey []byte
		if i+1 < len(keyPairs) {
			blockKey = keyPairs[i+1]
		}
		codecs[i/2] = NewCodec(keyPairs[i], blockKey)
	}
	return codecs
}

// MaxAge sets the maximum age, in seconds, of the values Decode accepts:
// one whose signed timestamp is older than that is rejected with an error
// wrapping ErrCookieExpired. 0 disables the check; a negative age, as in
// securecookie, makes every value that is not dated in the future expired.
// The default is 30 days.
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

// SetSerializer sets how values are turned into bytes and back. nil
// restores the default, CompactSerializer{}. When sz also has a method
// AppendSerialize(dst []byte, src interface{}) ([]byte, error), Encode
// uses it to serialize into pooled scratch space; like the built-in append,
// it must return dst extended with its output, leaving dst's bytes as they
// were.
//
// Decode hands the serializer a freshly allocated slice that the codec does
// not touch again, so a serializer may keep it (securecookie.NopEncoder
// does).
func (c *Codec) SetSerializer(sz securecookie.Serializer) *Codec {
	if sz == nil {
		sz = CompactSerializer{}
	}
	c.sz = sz
	c.asz, _ = sz.(appendSerializer)
	return c
}

// SetClock sets the function that tells the current time, used to date
// encoded values and to check the age of decoded ones. nil restores the
// default, time.Now. It is meant for tests.
func (c *Codec) SetClock(now func() time.Time) *Codec {
	if now == nil {
		now = time.Now
	}
	c.now = now
	return c
}

// Encode serializes, optionally encrypts, dates and signs value for the
// cookie called name, and returns the encoded value. It implements
// securecookie.Codec.
func (c *Codec) Encode(name string, value interface{}) (string, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	st := c.pool.Get().(*codecState)
	inner, err := c.seal(st, name, value)
	if err != nil {
		c.release(st)
		return "", err
	}
	n := base64.URLEncoding.EncodedLen(len(inner))
	if c.maxLength != 0 && n > c.maxLength {
		c.release(st)
		return "", codecTooLongError(n, c.maxLength)
	}
	out := make([]byte, n)
	base64.URLEncoding.Encode(out, inner)
	c.release(st)
	return unsafe.String(unsafe.SliceData(out), n), nil
}

// AppendEncode is Encode appending the encoded value to dst. On error it
// returns dst unchanged.
func (c *Codec) AppendEncode(dst []byte, name string, value interface{}) ([]byte, error) {
	if err := c.check(); err != nil {
		return dst, err
	}
	st := c.pool.Get().(*codecState)
	inner, err := c.seal(st, name, value)
	if err != nil {
		c.release(st)
		return dst, err
	}
	if n := base64.URLEncoding.EncodedLen(len(inner)); c.maxLength != 0 && n > c.maxLength {
		c.release(st)
		return dst, codecTooLongError(n, c.maxLength)
	}
	dst = base64.URLEncoding.AppendEncode(dst, inner)
	c.release(st)
	return dst, nil
}

// seal builds "name|date|value|mac" in st.buf and returns the part after
// "name|", still to be base64 encoded. The result aliases st.buf.
func (c *Codec) seal(st *codecState, name string, value interface{}) ([]byte, error) {
	// 1. Serialize, leaving room for the IV in front.
	raw := append(st.raw[:0], codecZeroIV[:c.ivLen]...)
	var err error
	if c.asz != nil {
		raw, err = c.asz.AppendSerialize(raw, value)
	} else {
		var b []byte
		if b, err = c.sz.Serialize(value); err == nil {
			raw = append(raw, b...)
		}
	}
	if err != nil {
		return nil, codecSerializeError(err)
	}
	st.raw = raw
	// 2. Encrypt (optional), in our own buffer: the serializer's output
	// may be the caller's slice.
	if c.block != nil {
		iv := raw[:c.ivLen]
		if _, err := rand.Read(iv); err != nil {
			return nil, fmt.Errorf("%w: generating IV: %w", ErrSerialize, err)
		}
		c.xorCTR(st, iv, raw[c.ivLen:], raw[c.ivLen:])
	}
	// 3. "name|date|base64(value)", signed, then "|mac".
	b := append(st.buf[:0], name...)
	b = append(b, '|')
	b = strconv.AppendInt(b, c.now().Unix(), 10)
	b = append(b, '|')
	b = base64.URLEncoding.AppendEncode(b, raw)
	st.mac.Reset()
	st.mac.Write(b)
	b = append(b, '|')
	b = st.mac.Sum(b)
	st.buf = b
	return b[len(name)+1:], nil
}

// Decode verifies and decodes value, an encoded value of the cookie called
// name, into dst (a pointer, as the serializer wants it). It implements
// securecookie.Codec.
func (c *Codec) Decode(name, value string, dst interface{}) error {
	// The bytes are only read, never written or kept.
	_, err := c.DecodeBytes(name, unsafe.Slice(unsafe.StringData(value), len(value)), dst)
	return err
}

// DecodeBytes is Decode for a value held in a byte slice, such as a cookie
// still in fasthttp's request buffer; value is only read, and not retained.
// It returns the Unix time (seconds) at which the value was signed.
//
// Errors wrap ErrCookieTooLong (value longer than MaxLength),
// ErrCookieExpired (signed longer than MaxAge ago), ErrInvalidKey (the codec
// is misconfigured) or ErrCookieInvalid (anything else: not base64, no
// separators, wrong MAC or name, bad or future timestamp, undecryptable,
// undeserializable; the cause, where there is one, is wrapped too).
func (c *Codec) DecodeBytes(name string, value []byte, dst interface{}) (timestamp int64, err error) {
	if err := c.check(); err != nil {
		return 0, err
	}
	// 1. Check length.
	if c.maxLength != 0 && len(value) > c.maxLength {
		return 0, codecTooLongError(len(value), c.maxLength)
	}
	st := c.pool.Get().(*codecState)
	timestamp, err = c.open(st, name, value, dst)
	c.release(st)
	return timestamp, err
}

func (c *Codec) open(st *codecState, name string, value []byte, dst interface{}) (int64, error) {
	// 2. Decode from base64, behind "name|".
	b := append(st.buf[:0], name...)
	b = append(b, '|')
	pre := len(b)
	b, err := base64.URLEncoding.AppendDecode(b, value)
	st.buf = b
	if err != nil {
		return 0, fmt.Errorf("%w: base64: %w", ErrCookieInvalid, err)
	}
	// 3. Verify the MAC of "name|date|value"; the rest is "date|value|mac".
	d := b[pre:]
	i := codecIndexByte(d, 0, '|')
	if i < 0 {
		return 0, errMalformed
	}
	j := codecIndexByte(d, i+1, '|')
	if j < 0 {
		return 0, errMalformed
	}
	st.mac.Reset()
	st.mac.Write(b[:pre+j])
	if !hmac.Equal(st.mac.Sum(st.sum[:0]), d[j+1:]) {
		return 0, errMacInvalid
	}
	// 4. Verify the date.
	ts, err := strconv.ParseInt(string(d[:i]), 10, 64)
	if err != nil {
		return 0, errTimestampInvalid
	}
	now := c.now().Unix()
	if ts > now+maxClockSkew {
		return 0, errTimestampFuture
	}
	if c.maxAge != 0 && ts < now-c.maxAge {
		return 0, codecExpiredError(ts, now, c.maxAge)
	}
	// 5. Decode the value from base64 and decrypt it (optional) into a new
	// slice, which the serializer may keep.
	raw, err := base64.URLEncoding.AppendDecode(st.raw[:0], d[i+1:j])
	st.raw = raw
	if err != nil {
		return 0, fmt.Errorf("%w: base64 value: %w", ErrCookieInvalid, err)
	}
	var plain []byte
	if c.block != nil {
		if len(raw) <= c.ivLen {
			return 0, errDecryptFailed
		}
		plain = make([]byte, len(raw)-c.ivLen)
		c.xorCTR(st, raw[:c.ivLen], plain, raw[c.ivLen:])
	} else {
		plain = make([]byte, len(raw))
		copy(plain, raw)
	}
	// 6. Deserialize.
	if err := c.sz.Deserialize(plain, dst); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrCookieInvalid, err)
	}
	return ts, nil
}

// xorCTR XORs src with the AES-CTR keystream for iv into dst (which may be
// src), exactly like cipher.NewCTR(c.block, iv).XORKeyStream(dst, src): the
// counter is the IV taken as a big-endian 128-bit number, incremented by one
// per block, wrapping around. Short payloads are done here without
// allocating.
func (c *Codec) xorCTR(st *codecState, iv, dst, src []byte) {
	if len(src) > inlineCTRMax {
		cipher.NewCTR(c.block, iv).XORKeyStream(dst, src)
		return
	}
	ctr := st.ctr[:]
	copy(ctr, iv)
	for len(src) > 0 {
		c.block.Encrypt(st.ks[:], ctr)
		n := subtle.XORBytes(dst, src, st.ks[:])
		dst, src = dst[n:], src[n:]
		for i := len(ctr) - 1; i >= 0; i-- {
			ctr[i]++
			if ctr[i] != 0 {
				break
			}
		}
	}
}

// check returns the configuration error, if any.
func (c *Codec) check() error {
	switch {
	case c == nil:
		return errNilCodec
	case c.err != nil:
		return c.err
	case c.pool.New == nil:
		return errZeroCodec
	}
	return nil
}

func (c *Codec) release(st *codecState) {
	if cap(st.buf) > maxPooledBuffer {
		st.buf = nil
	}
	if cap(st.raw) > maxPooledBuffer {
		st.raw = nil
	}
	c.pool.Put(st)
}

func codecIndexByte(b []byte, from int, c byte) int {
	for i := from; i < len(b); i++ {
		if b[i] == c {
			return i
		}
	}
	return -1
}

func codecTooLongError(n, limit int) error {
	return fmt.Errorf("%w: %d bytes, MaxLength is %d", ErrCookieTooLong, n, limit)
}

func codecExpiredError(ts, now, maxAge int64) error {
	return fmt.Errorf("%w: signed %d s ago, MaxAge is %d s", ErrCookieExpired, now-ts, maxAge)
}

func codecSerializeError(err error) error {
	if errors.Is(err, ErrSerialize) && strings.HasPrefix(err.Error(), "sessions: ") {
		return err
	}
	return fmt.Errorf("%w: %w", ErrSerialize, err)
}

// Codec lists ---------------------------------------------------------------

// encodeFirst encodes value with codecs[0] and appends the result to dst,
// through the fast path when it is a *Codec. Errors of other codecs are
// classified like Codec's own (see classifyEncodeError).
func encodeFirst(codecs []securecookie.Codec, dst []byte, name string, value interface{}) ([]byte, error) {
	if len(codecs) == 0 {
		return dst, errNoCodecs
	}
	switch c := codecs[0].(type) {
	case nil:
		return dst, errNilCodec
	case *Codec:
		return c.AppendEncode(dst, name, value)
	default:
		s, err := c.Encode(name, value)
		if err != nil {
			return dst, classifyEncodeError(err)
		}
		return append(dst, s...), nil
	}
}

// decodeAny decodes value with each codec in turn and returns the signed
// timestamp from the first that succeeds (0 when a codec other than *Codec
// or *securecookie.SecureCookie succeeded: its format is unknown). When all
// fail it returns the most telling error: expired (the value was genuine)
// before a configuration error, before too long, before invalid.
func decodeAny(codecs []securecookie.Codec, name string, value []byte, dst interface{}) (ts int64, err error) {
	if len(codecs) == 0 {
		return 0, errNoCodecs
	}
	var (
		best     error
		bestRank = -1
		str      string
		haveStr  bool
	)
	for _, codec := range codecs {
		switch c := codec.(type) {
		case nil:
			err = errNilCodec
		case *Codec:
			ts, err = c.DecodeBytes(name, value, dst)
		default:
			ts = 0
			if !haveStr {
				str, haveStr = string(value), true // other codecs may keep it
			}
			if err = c.Decode(name, str, dst); err == nil {
				if _, ok := c.(*securecookie.SecureCookie); ok {
					ts = signedTimestamp(value)
				}
			} else {
				err = classifyDecodeError(err)
			}
		}
		if err == nil {
			return ts, nil
		}
		if r := decodeErrorRank(err); r > bestRank {
			best, bestRank = err, r
		}
	}
	return 0, best
}

func decodeErrorRank(err error) int {
	switch {
	case errors.Is(err, ErrCookieExpired):
		return 3
	case errors.Is(err, ErrInvalidKey):
		return 2
	case errors.Is(err, ErrCookieTooLong):
		return 1
	}
	return 0
}

// signedTimestamp returns the date of a value in securecookie's format that
// a codec has already verified, or 0.
func signedTimestamp(value []byte) int64 {
	b, err := base64.URLEncoding.AppendDecode(nil, value)
	if err != nil {
		return 0
	}
	i := codecIndexByte(b, 0, '|')
	if i < 0 {
		return 0
	}
	ts, err := strconv.ParseInt(string(b[:i]), 10, 64)
	if err != nil {
		return 0
	}
	return ts
}

// securecookie's error texts; "expired timestamp" is unexported and "the
// value is too long" is returned as a plain string error.
const (
	scExpired       = "securecookie: expired timestamp"
	scTooLong       = "securecookie: the value is too long"
	scHashKeyUnset  = "securecookie: hash key is not set"
	scBlockKeyUnset = "securecookie: block key is not set"
)

// classifyDecodeError maps an error from another codec's Decode to this
// package's sentinels.
func classifyDecodeError(err error) error {
	for _, s := range [...]error{ErrCookieExpired, ErrCookieTooLong, ErrInvalidKey, ErrCookieInvalid} {
		if errors.Is(err, s) {
			return wrapCodecError(s, err)
		}
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, scExpired):
		return wrapCodecError(ErrCookieExpired, err)
	case strings.HasPrefix(msg, scTooLong):
		return wrapCodecError(ErrCookieTooLong, err)
	}
	var se securecookie.Error
	if errors.As(err, &se) && se.IsUsage() {
		// On Decode, securecookie's only usage errors are configuration.
		return wrapCodecError(ErrInvalidKey, err)
	}
	return wrapCodecError(ErrCookieInvalid, err)
}

// classifyEncodeError maps an error from another codec's Encode to this
// package's sentinels.
func classifyEncodeError(err error) error {
	for _, s := range [...]error{ErrCookieTooLong, ErrInvalidKey, ErrSerialize} {
		if errors.Is(err, s) {
			return wrapCodecError(s, err)
		}
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, scTooLong):
		return wrapCodecError(ErrCookieTooLong, err)
	case strings.HasPrefix(msg, scHashKeyUnset), strings.HasPrefix(msg, scBlockKeyUnset):
		return wrapCodecError(ErrInvalidKey, err)
	}
	var se securecookie.Error
	if errors.As(err, &se) && se.IsUsage() {
		var kse aes.KeySizeError
		if cause := se.Cause(); cause != nil && errors.As(cause, &kse) {
			return wrapCodecError(ErrInvalidKey, err)
		}
	}
	return wrapCodecError(ErrSerialize, err)
}

// wrapCodecError returns err if it already says "sessions: " and wraps sentinel,
// else an error that wraps both.
func wrapCodecError(sentinel, err error) error {
	if errors.Is(err, sentinel) && strings.HasPrefix(err.Error(), "sessions: ") {
		return err
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}

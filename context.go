package sessions

import "github.com/valyala/fasthttp"

// registryKey is the user-value key of the request's Registry. It is an
// unexported type, so no other package can read or overwrite the value.
type registryKey struct{}

// GetRegistry returns the Registry of the request, creating it on first use.
//
// The registry lives in the request's user values (ctx.SetUserValue), which
// fasthttp resets after every request, closing the registry. So sessions
// never leak into the next request served with the same *RequestCtx, and
// calling Clear is optional.
func GetRegistry(ctx *fasthttp.RequestCtx) *Registry {
	if h, ok := ctx.UserValue(registryKey{}).(*registryHandle); ok {
		return h.r
	}
	r := registryPool.Get().(*Registry)
	r.ctx = ctx
	ctx.SetUserValue(registryKey{}, &r.handle)
	return r
}

// Save saves every session of the request's Registry: it is
// GetRegistry(ctx).Save(ctx), and does nothing when no session was used.
// Like Registry.Save it skips sessions that are new and still empty.
// Call it before the handler returns; a cookie set after the response is
// written never reaches the client.
func Save(ctx *fasthttp.RequestCtx) error {
	h, ok := ctx.UserValue(registryKey{}).(*registryHandle)
	if !ok {
		return nil
	}
	return h.r.Save(ctx)
}

// Clear releases the request's Registry now, forgetting its sessions
// without saving them. It is optional: fasthttp releases the registry after
// every request anyway. It exists for code ported from gorilla/context and
// clevergo/sessions, and for long handlers that want the memory back early.
func Clear(ctx *fasthttp.RequestCtx) {
	if h, ok := ctx.UserValue(registryKey{}).(*registryHandle); ok {
		h.r.Close()
	}
}

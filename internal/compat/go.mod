module github.com/fasthttp-sessions/sessions/internal/compat

go 1.25.0

require (
	github.com/fasthttp-sessions/sessions v0.0.0
	github.com/gorilla/securecookie v1.1.2
	github.com/gorilla/sessions v1.4.0
	github.com/valyala/fasthttp v1.74.0
)

require (
	github.com/klauspost/compress v1.20.0 // indirect
	github.com/molecule-man/go-brrr v1.0.1 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)

replace github.com/fasthttp-sessions/sessions => ../..

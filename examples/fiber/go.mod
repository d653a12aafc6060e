module github.com/fasthttp-sessions/sessions/examples/fiber

go 1.25.0

require (
	github.com/fasthttp-sessions/sessions v0.0.0
	github.com/gofiber/fiber/v2 v2.52.15
)

require (
	github.com/google/uuid v1.6.0 // indirect
	github.com/gorilla/securecookie v1.1.2 // indirect
	github.com/klauspost/compress v1.20.0 // indirect
	github.com/mattn/go-colorable v0.1.13 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/mattn/go-runewidth v0.0.16 // indirect
	github.com/molecule-man/go-brrr v1.0.1 // indirect
	github.com/rivo/uniseg v0.2.0 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	github.com/valyala/fasthttp v1.74.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)

replace github.com/fasthttp-sessions/sessions => ../..

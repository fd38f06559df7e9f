module handler

go 1.26

require (
	github.com/openfaas/templates-sdk/go-http v0.0.0-20220408082716-5981c545cb03
	handler/function v0.0.0
)

replace handler/function => ./function

module github.com/duroxide-go/duroxide/bench/peers

go 1.26.0

replace github.com/duroxide-go/duroxide => ../..

require (
	github.com/cschleiden/go-workflows v1.2.0
	github.com/duroxide-go/duroxide v0.0.0-00010101000000-000000000000
)

require (
	github.com/benbjohnson/clock v1.3.0 // indirect
	github.com/go-errors/errors v1.4.2 // indirect
	github.com/google/btree v1.1.3 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/stretchr/objx v0.5.3 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	go.opentelemetry.io/otel v1.31.0 // indirect
	go.opentelemetry.io/otel/trace v1.31.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

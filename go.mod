module github.com/wdiazux/infra

go 1.26.0

require (
	github.com/magefile/mage v1.17.2
	github.com/stretchr/testify v1.11.1
	golang.org/x/crypto v0.59.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

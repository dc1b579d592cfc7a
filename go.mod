module github.com/wdiazux/infra

go 1.26.0

require (
	github.com/luthermonson/go-proxmox v0.8.2
	github.com/magefile/mage v1.17.2
	github.com/stretchr/testify v1.11.1
	golang.org/x/crypto v0.59.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/buger/goterm v1.0.4 // indirect
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/diskfs/go-diskfs v1.9.3 // indirect
	github.com/djherbis/times v1.6.0 // indirect
	github.com/gorilla/websocket v1.4.2 // indirect
	github.com/jinzhu/copier v0.3.4 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

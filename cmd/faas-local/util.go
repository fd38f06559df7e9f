package main

import (
	"crypto/rand"

	providerlogs "github.com/openfaas/faas-provider/logs"
)

// providerMessage is OpenFaaS's log message.
type providerMessage = providerlogs.Message

var randRead = rand.Read

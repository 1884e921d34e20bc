package spec

func kvStoreCases() []Case { return nil }

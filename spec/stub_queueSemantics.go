package spec

func queueSemanticsCases() []Case { return nil }

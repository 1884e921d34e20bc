package spec

func bulkDeletionCases() []Case { return nil }

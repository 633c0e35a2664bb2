package social

// Limits on what one client may ask of the streaming API (DESIGN.md §7).
// They live here, beside the other limits of client input, so that the
// stream filters, their transports and docs/SECURITY.md share one
// definition. A request over any of them is refused with 400 before
// anything is subscribed.
const (
	// MaxTrackPhrases bounds the phrases of one filter's track parameter.
	MaxTrackPhrases = 400
	// MaxTrackPhraseLen bounds one track phrase, in characters.
	MaxTrackPhraseLen = 60
	// MaxFollowLogins bounds the logins of one filter's follow parameter.
	MaxFollowLogins = 5000
	// MaxLocationBoxes bounds the boxes of one filter's location
	// parameter (four numbers each).
	MaxLocationBoxes = 25
	// MaxStreamsPerConnection bounds the streams one WebSocket connection
	// may subscribe to at once.
	MaxStreamsPerConnection = 10
	// MaxStreamIdentifierLen bounds the identifier a classic stream client
	// names itself with; it keys the client's sample and its rate limit.
	MaxStreamIdentifierLen = 64
)

//go:build !unix

package boundedfile

// nonBlock is a flag of unix systems only.
const nonBlock = 0

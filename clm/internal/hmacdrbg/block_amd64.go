//go:build !purego

package hmacdrbg

// useSHANI is set once, at package initialisation, from CPUID and never
// changed: it is a property of the machine, not state.
var useSHANI = hasSHANI()

// block runs the SHA-256 compression function over each whole block of p.
func block(h *[8]uint32, p []byte) {
	if useSHANI {
		blockSHANI(h, p)
		return
	}
	blockStdlib(h, p)
}

// blockWords runs the SHA-256 compression function over one block given
// as its message words.
func blockWords(h *[8]uint32, w *[16]uint32) {
	if useSHANI {
		blockSHANIWords(h, w)
		return
	}
	blockWordsGeneric(h, w)
}

// hasSHANI reports whether the CPU has the SHA extensions and the SSSE3 and
// SSE4.1 instructions blockSHANI also uses (Intel SDM vol. 2, CPUID).
func hasSHANI() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	_, ebx7, _, _ := cpuid(7, 0)
	const (
		ssse3 = 1 << 9  // CPUID.1:ECX
		sse41 = 1 << 19 // CPUID.1:ECX
		sha   = 1 << 29 // CPUID.(EAX=7,ECX=0):EBX
	)
	return ecx1&ssse3 != 0 && ecx1&sse41 != 0 && ebx7&sha != 0
}

// cpuid executes the CPUID instruction with the given EAX and ECX inputs.
//
//go:noescape
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// blockSHANI is the SHA-256 compression function with the Intel SHA
// extensions, over each whole 64-byte block of p.
//
//go:noescape
func blockSHANI(dig *[8]uint32, p []byte)

// blockSHANIWords is blockSHANI for one block given as its message words.
//
//go:noescape
func blockSHANIWords(dig *[8]uint32, w *[16]uint32)

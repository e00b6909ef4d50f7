package io.sparkvision.image;

import java.util.List;
import java.util.Locale;

/**
 * What ImageIO's decoders say, read honestly. A decoder warning is not an error: TwelveMonkeys warns on every CMYK
 * JPEG without an ICC profile ("will convert using inaccurate CMYK to RGB conversion"), on ICC profiles it adjusts,
 * on odd APP segments, and the JDK warns on a file whose only flaw is a missing end marker; those images decode
 * completely. Only the warnings libjpeg gives when entropy-coded data ran out or is corrupt (it then fills the rest
 * with grey) mean the pixels are not the image. Both the ingest and the score job apply this.
 */
public final class DecodeChecks {
    /** libjpeg's messages (jerror.h) for missing or corrupt entropy-coded data. */
    private static final List<String> DAMAGE = List.of(
            "premature end",            // JWRN_HIT_MARKER, JWRN_JPEG_EOF: the data stops before the image is complete
            "bad huffman code",         // JWRN_HUFF_BAD_CODE
            "bad arithmetic code",      // JWRN_ARITH_BAD_CODE
            "instead of rst",           // JWRN_MUST_RESYNC: a restart interval was lost
            "inconsistent progression"  // JWRN_BOGUS_PROGRESSION: progressive scans do not add up
    );

    private DecodeChecks() {
    }

    /** The first warning that means the decoded pixels are incomplete or corrupt, or null if there is none. */
    public static String damage(List<String> warnings) {
        for (String w : warnings) {
            String lower = w.toLowerCase(Locale.ROOT);
            for (String d : DAMAGE) if (lower.contains(d)) return w;
        }
        return null;
    }

    /**
     * Why a JPEG that failed to decode cannot be decoded here, when its frame header tells (sample precision other
     * than 8 bits in a DCT frame; hierarchical frames); null when the header names nothing unsupported, which
     * leaves the decoder's own error as the reason. Java's JPEG decoder reads 8-bit DCT JPEGs, baseline, extended,
     * progressive and arithmetic-coded; TwelveMonkeys adds lossless (SOF3) ones.
     */
    public static String unsupportedJpeg(byte[] b) {
        if (b.length < 4 || (b[0] & 0xff) != 0xff || (b[1] & 0xff) != 0xd8) return null;
        int i = 2;
        while (i + 4 <= b.length && (b[i] & 0xff) == 0xff) {
            int marker = b[i + 1] & 0xff;
            if (marker == 0xff) { // fill byte
                i++;
                continue;
            }
            int len = ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
            boolean frame = marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
            if (frame && i + 4 < b.length) {
                int sof = marker - 0xc0;
                int precision = b[i + 4] & 0xff;
                String process = (sof >= 8 ? "arithmetic-coded " : "") + switch (sof & 3) {
                    case 0 -> "baseline";
                    case 1 -> "extended sequential";
                    case 2 -> "progressive";
                    default -> "lossless";
                };
                if ((sof & 4) != 0) {
                    return "hierarchical JPEG (SOF" + sof + "), which Java's JPEG decoder cannot read; re-encode it as a "
                            + "baseline or progressive JPEG (or PNG)";
                }
                if ((sof & 3) != 3 && precision != 8) {
                    return precision + "-bit " + process + " JPEG (SOF" + sof + " with " + precision + "-bit samples): Java's "
                            + "JPEG decoder reads 8-bit samples only; convert it to an 8-bit JPEG or to a 16-bit PNG";
                }
                return null;
            }
            if (marker == 0xda || marker == 0xd9) return null; // scan data: a frame header would have come first
            i += 2 + len;
        }
        return null;
    }
}

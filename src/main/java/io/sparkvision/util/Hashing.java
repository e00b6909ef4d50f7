package io.sparkvision.util;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 content hashes for provenance and change detection. */
public final class Hashing {
    private Hashing() {
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static void update(MessageDigest md, InputStream in) throws IOException {
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
    }

    public static String hex(MessageDigest md) {
        return "sha256:" + HexFormat.of().formatHex(md.digest());
    }

    public static String sha256(byte[] bytes) {
        MessageDigest md = sha256();
        md.update(bytes);
        return hex(md);
    }
}

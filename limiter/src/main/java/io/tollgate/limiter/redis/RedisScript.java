package io.tollgate.limiter.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** A Lua script shipped as a class-path resource, with its SHA-1 (the EVALSHA digest). Immutable. */
public final class RedisScript {
    /** Every level of one request, atomically (limit.lua). */
    public static final RedisScript LIMIT = load("limit.lua");
    /** Instance heartbeat for local-fallback shares (heartbeat.lua). */
    public static final RedisScript HEARTBEAT = load("heartbeat.lua");

    private final String name;
    private final byte[] body;
    private final String sha1;

    private RedisScript(String name, byte[] body) {
        this.name = name;
        this.body = body;
        this.sha1 = sha1Hex(body);
    }

    static RedisScript load(String resource) {
        try (InputStream in = RedisScript.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing class-path resource " + resource);
            }
            return new RedisScript(resource, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha1Hex(byte[] bytes) {
        try {
            final byte[] d = MessageDigest.getInstance("SHA-1").digest(bytes);
            final StringBuilder sb = new StringBuilder(40);
            for (byte b : d) {
                sb.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Resource name. */
    public String name() {
        return name;
    }

    /** The script text (a copy). */
    public String text() {
        return new String(body, StandardCharsets.UTF_8);
    }

    byte[] body() {
        return body;
    }

    /** Lower-case hex SHA-1, as Redis computes it for EVALSHA. */
    public String sha1() {
        return sha1;
    }
}

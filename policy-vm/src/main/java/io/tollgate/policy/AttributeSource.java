package io.tollgate.policy;

/**
 * Where attribute bytes come from when they are neither a {@code byte[]} nor a {@link java.nio.ByteBuffer}: the
 * gateway implements it once per event loop over its inbound Netty {@code ByteBuf} (a mutable adapter whose
 * {@code copyTo} calls {@code buf.getBytes(srcIndex, dst, dstOffset, length)}), so this module needs no Netty.
 *
 * <p>Contract: copy exactly {@code length} bytes starting at {@code srcIndex} into {@code dst}; do not keep
 * {@code dst}; do not allocate.
 */
@FunctionalInterface
public interface AttributeSource {
    void copyTo(int srcIndex, byte[] dst, int dstOffset, int length);
}

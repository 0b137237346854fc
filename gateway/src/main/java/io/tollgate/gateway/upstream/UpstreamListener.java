package io.tollgate.gateway.upstream;

import io.netty.buffer.ByteBuf;

/**
 * The exchange that holds an {@link UpstreamConnection}. All calls arrive on the event loop that owns both sides.
 */
public interface UpstreamListener {

    /** The connection requested from {@link UpstreamPool#acquire} is established; the request can be written. */
    void onUpstreamConnected(UpstreamConnection connection);

    /** The connect attempt failed (refused, unreachable, timed out, name not resolved). */
    void onUpstreamConnectFailed(UpstreamConnection connection, Throwable cause);

    /** Response bytes. Ownership of {@code data} passes to the listener, which must release it. */
    void onUpstreamRead(UpstreamConnection connection, ByteBuf data);

    /** The end of one read burst from the upstream: flush what was forwarded. */
    void onUpstreamReadComplete(UpstreamConnection connection);

    /** The upstream socket's writability flipped; resume or pause reading the downstream. */
    void onUpstreamWritabilityChanged(UpstreamConnection connection);

    /** The upstream connection closed (by the peer, a reset, or an error) while held by this listener. */
    void onUpstreamClosed(UpstreamConnection connection);
}

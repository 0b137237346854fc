package io.tollgate.gateway.loop;

import java.net.InetSocketAddress;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.tollgate.config.Transport;

/**
 * The network transport chosen at startup: native epoll when it loads (fewer copies, edge-triggered, no selector
 * garbage), JDK NIO otherwise. Which one runs is logged and exported as a label of {@code tollgate_info}.
 */
public final class Transports {

    private final String name;
    private final IoHandlerFactory ioHandlerFactory;
    private final Class<? extends ServerChannel> serverChannelClass;
    private final Class<? extends SocketChannel> socketChannelClass;
    private final Class<? extends DatagramChannel> datagramChannelClass;
    private final String fallbackReason;

    private Transports(String name, IoHandlerFactory ioHandlerFactory, Class<? extends ServerChannel> serverChannelClass,
                       Class<? extends SocketChannel> socketChannelClass,
                       Class<? extends DatagramChannel> datagramChannelClass, String fallbackReason) {
        this.name = name;
        this.ioHandlerFactory = ioHandlerFactory;
        this.serverChannelClass = serverChannelClass;
        this.socketChannelClass = socketChannelClass;
        this.datagramChannelClass = datagramChannelClass;
        this.fallbackReason = fallbackReason;
    }

    /**
     * Picks the transport the settings ask for.
     *
     * @throws IllegalStateException when epoll is required but unavailable
     */
    public static Transports select(Transport wanted) {
        if (wanted != Transport.NIO) {
            if (Epoll.isAvailable()) {
                return new Transports("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                        EpollSocketChannel.class, EpollDatagramChannel.class, null);
            }
            if (wanted == Transport.EPOLL) {
                throw new IllegalStateException("transport = epoll, but native epoll is unavailable: "
                        + Epoll.unavailabilityCause());
            }
            return nio(String.valueOf(Epoll.unavailabilityCause()));
        }
        return nio(null);
    }

    private static Transports nio(String fallbackReason) {
        return new Transports("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class,
                NioDatagramChannel.class, fallbackReason);
    }

    /** An event-loop group of {@code threads} threads named {@code tollgate-<purpose>-N}. */
    public EventLoopGroup newGroup(int threads, String purpose) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("tollgate-" + purpose, true),
                ioHandlerFactory);
    }

    public String name() {
        return name;
    }

    /** Why epoll was not used when it was wanted, or null. */
    public String fallbackReason() {
        return fallbackReason;
    }

    public Class<? extends ServerChannel> serverChannelClass() {
        return serverChannelClass;
    }

    public Class<? extends SocketChannel> socketChannelClass() {
        return socketChannelClass;
    }

    /**
     * Resolves upstream host names without blocking an event loop: Netty's asynchronous DNS client (with
     * /etc/hosts and /etc/resolv.conf), one resolver per loop, honouring record TTLs. The JDK resolver Netty uses by
     * default would block the loop, and every connection on it, for as long as a DNS server takes to answer.
     *
     * @param queryTimeoutMs bound of one DNS query (the gateway passes its upstream connect timeout)
     */
    public AddressResolverGroup<InetSocketAddress> newResolverGroup(long queryTimeoutMs) {
        return new DnsAddressResolverGroup(new DnsNameResolverBuilder()
                .queryTimeoutMillis(queryTimeoutMs)
                .datagramChannelType(datagramChannelClass)
                .socketChannelType(socketChannelClass));
    }
}

package io.sparkvision.train.ui;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.impl.VertxInternal;
import org.deeplearning4j.ui.VertxUIServer;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * DL4J's Training UI server ({@link VertxUIServer}: its pages, modules and remote receiver, unchanged) listening on a
 * chosen address and port. DL4J M2.1 always listens on every interface ({@code HttpServer.listen(port)} is
 * {@code listen(port, "0.0.0.0")} in Vert.x 3.9) and takes its port from a JVM-wide system property; here the
 * verticle's Vert.x handle is wrapped so that the one server it creates listens on {@code host:port} instead.
 * DL4J's modules find the server through {@code VertxUIServer.getInstance()}, which this instance becomes.
 */
final class UiServer extends VertxUIServer {
    private static final long START_SECONDS = 60;
    private final String host;
    private final int port;

    private UiServer(String host, int port) {
        this.host = host;
        this.port = port;
    }

    /** Starts the server and waits until it listens; a port in use or an address not on this host fails here. */
    static UiServer start(String host, int port) {
        Vertx vertx = Vertx.vertx();
        UiServer server = new UiServer(host, port);
        CompletableFuture<String> deployed = new CompletableFuture<>();
        vertx.deployVerticle(server, r -> {
            if (r.succeeded()) deployed.complete(r.result());
            else deployed.completeExceptionally(r.cause());
        });
        try {
            deployed.get(START_SECONDS, TimeUnit.SECONDS);
            return server;
        } catch (ExecutionException | TimeoutException e) {
            vertx.close();
            Throwable cause = e instanceof ExecutionException ? rootCause(e) : e;
            throw new IllegalArgumentException("the Training UI could not listen on " + host + ":" + port + " (" + cause
                    + "); set ui.port to a free port (0 = any) and ui.host to an address of this machine");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the Training UI", e);
        }
    }

    /** Stops the server and DL4J's singleton with it (so a later run in this JVM can start its own). */
    void shutdown() {
        try {
            VertxUIServer.stopInstance();
        } catch (Exception e) {
            throw new IllegalStateException("could not stop the Training UI: " + e, e);
        }
    }

    @Override
    public void init(Vertx vertx, Context context) {
        super.init(bound(vertx), context);
    }

    /** The verticle's Vert.x, whose HTTP servers listen on host:port. */
    private Vertx bound(Vertx real) {
        return (Vertx) Proxy.newProxyInstance(UiServer.class.getClassLoader(), new Class<?>[] {VertxInternal.class},
                (proxy, m, args) -> {
                    Object r = call(real, m, args);
                    if (r instanceof HttpServer && m.getName().equals("createHttpServer")) return bound((HttpServer) r);
                    return r == real ? proxy : r;
                });
    }

    @SuppressWarnings("unchecked")
    private HttpServer bound(HttpServer real) {
        return (HttpServer) Proxy.newProxyInstance(UiServer.class.getClassLoader(), new Class<?>[] {HttpServer.class},
                (proxy, m, args) -> {
                    Object r;
                    if (m.getName().equals("listen") && args != null && args.length == 2 && args[0] instanceof Integer) {
                        r = real.listen(port, host, (Handler<AsyncResult<HttpServer>>) args[1]);
                    } else {
                        r = call(real, m, args);
                    }
                    return r == real ? proxy : r; // fluent calls keep returning the bound server
                });
    }

    private static Object call(Object target, Method m, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static Throwable rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t;
    }
}

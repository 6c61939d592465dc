using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace BillingConsole.GrpcApi;

/// <summary>
/// HTTP/2 with prior knowledge (RFC 9113 §3.3, "h2c") on a cleartext port that also serves HTTP/1.1. Without TLS there is
/// no ALPN, and Kestrel runs every cleartext connection of an Http1AndHttp2 endpoint as HTTP/1.1. This connection
/// middleware looks at the first bytes a client sends, without consuming them: the HTTP/2 connection preface makes the
/// connection HTTP/2 (gRPC clients on http://); anything else goes on as HTTP/1.1 with its bytes intact (browsers, the
/// Blazor circuit's WebSocket, the REST API). TLS connections are left to ALPN.
/// </summary>
/// <remarks>
/// Kestrel picks HTTP/2 for a connection that carries a TLS feature whose negotiated protocol is "h2"
/// (HttpConnection.SelectProtocol), so an h2c connection is given those two features; they hold no certificate, and
/// the request's scheme is the one the client states (":scheme http"), which is why the host allows alternate schemes.
/// </remarks>
public static class PriorKnowledgeHttp2
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    /// <summary>Adds the preface check to every endpoint Kestrel opens that speaks both HTTP/1.1 and HTTP/2.</summary>
    public static void Enable(KestrelServerOptions kestrel)
    {
        kestrel.AllowAlternateSchemes = true;
        kestrel.ConfigureEndpointDefaults(listen => listen.Use(next => connection =>
            listen.Protocols == HttpProtocols.Http1AndHttp2 && connection.Features.Get<ITlsConnectionFeature>() is null
                ? SelectAsync(connection, next, kestrel.Limits.KeepAliveTimeout)
                : next(connection)));
    }

    private static async Task SelectAsync(ConnectionContext connection, ConnectionDelegate next, TimeSpan idleTimeout)
    {
        Verdict verdict;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed))
        {
            timeout.CancelAfter(idleTimeout);
            try
            {
                verdict = await ReadVerdictAsync(connection.Transport.Input, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // A client that sent nothing, or part of the preface, and stopped: closed as Kestrel closes an idle connection.
                connection.Abort(new ConnectionAbortedException("No request and no complete HTTP/2 preface within the keep-alive timeout."));
                return;
            }
        }
        if (verdict == Verdict.Http2)
        {
            var negotiated = new PriorKnowledgeFeature();
            connection.Features.Set<ITlsConnectionFeature>(negotiated);
            connection.Features.Set<ITlsApplicationProtocolFeature>(negotiated);
        }
        await next(connection);
    }

    /// <summary>Decided on the first byte that differs from the preface, so a short HTTP/1.1 request never waits for 24 bytes.</summary>
    private static async Task<Verdict> ReadVerdictAsync(PipeReader input, CancellationToken ct)
    {
        while (true)
        {
            var read = await input.ReadAsync(ct);
            var buffer = read.Buffer;
            var verdict = Judge(buffer, read.IsCompleted);
            // Nothing is consumed: Kestrel reads these bytes again. Until a verdict, all that arrived has been examined,
            // so the next read waits for more.
            input.AdvanceTo(buffer.Start, verdict == Verdict.Undecided ? buffer.End : buffer.Start);
            if (verdict != Verdict.Undecided) return verdict;
        }
    }

    internal static Verdict Judge(ReadOnlySequence<byte> received, bool ended)
    {
        var length = (int)Math.Min(received.Length, Preface.Length);
        Span<byte> start = stackalloc byte[Preface.Length];
        received.Slice(0, length).CopyTo(start);
        if (!start[..length].SequenceEqual(Preface.AsSpan(0, length))) return Verdict.Http1;
        if (length == Preface.Length) return Verdict.Http2;
        return ended ? Verdict.Http1 : Verdict.Undecided;
    }

    internal enum Verdict { Undecided, Http1, Http2 }

    /// <summary>What Kestrel's protocol selection reads: "h2" agreed, without TLS, hence without certificates.</summary>
    private sealed class PriorKnowledgeFeature : ITlsConnectionFeature, ITlsApplicationProtocolFeature
    {
        public ReadOnlyMemory<byte> ApplicationProtocol { get; } = "h2"u8.ToArray();
        public X509Certificate2? ClientCertificate { get; set; }
        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult<X509Certificate2?>(null);
    }
}

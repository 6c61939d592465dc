using System.Security.Cryptography;
using BillingConsole.Persistence;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace BillingConsole.Engine.Events;

/// <summary>
/// The signing secrets of event endpoints at rest: sealed with the shared Data Protection key ring (kept in the database,
/// encrypted to a certificate where one is configured) before they are stored, opened only to sign a delivery. A copy of
/// the event_endpoints table alone does not let anyone forge a delivery.
/// </summary>
public sealed class EndpointSecrets(IDataProtectionProvider protection, NpgsqlDataSource dataSource, ILogger<EndpointSecrets> logger)
{
    /// <summary>How every secret the console makes begins; no sealed value does (those begin with the key ring's magic header).</summary>
    public const string Prefix = "whsec_";

    private readonly IDataProtector _protector = protection.CreateProtector("BillingConsole.Events.EndpointSecret.v1");

    /// <summary>A new secret, in clear for the admin to copy once, and sealed for the database.</summary>
    public (string Secret, string Sealed) Create()
    {
        var secret = Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (secret, _protector.Protect(secret));
    }

    public string Open(string sealedSecret) => _protector.Unprotect(sealedSecret);

    /// <summary>
    /// Seals the secrets stored in clear before secrets were sealed (migration SealedEventEndpointSecrets): run at start-up
    /// after the migrations; each row changes only if it still holds the value read, so nodes starting together agree.
    /// </summary>
    public async Task<int> SealStoredInClearAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var inClear = (await connection.QueryAsync<(Guid Id, string Secret)>(new CommandDefinition(
            "select id, sealed_secret from event_endpoints where starts_with(sealed_secret, @Prefix)", new { Prefix }, cancellationToken: ct))).ToList();
        if (inClear.Count == 0) return 0;
        var sealedRows = await connection.ExecuteAsync(new CommandDefinition(
            """
            update event_endpoints e set sealed_secret = s.sealed
            from unnest(@Ids, @Clear, @Sealed) as s(id, clear, sealed)
            where e.id = s.id and e.sealed_secret = s.clear
            """,
            new { Ids = inClear.Select(r => r.Id).ToArray(), Clear = inClear.Select(r => r.Secret).ToArray(), Sealed = inClear.Select(r => _protector.Protect(r.Secret)).ToArray() },
            cancellationToken: ct));
        logger.LogInformation("Sealed {Count} event endpoint signing secrets that were stored in clear", sealedRows);
        return sealedRows;
    }
}

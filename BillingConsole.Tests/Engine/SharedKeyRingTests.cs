using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BillingConsole.Engine.PayPage;
using BillingConsole.Tests.Infrastructure;
using Dapper;

namespace BillingConsole.Tests.Engine;

/// <summary>
/// Every node protects with one key ring kept in PostgreSQL: what one node signs another reads, whatever disk each runs on,
/// and with a certificate from the secrets file the keys are stored encrypted to it.
/// </summary>
public sealed class SharedKeyRingTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private MigratedDatabase _database = null!;

    public async ValueTask InitializeAsync() => _database = await TestDatabases.CreateMigratedAsync("key_ring");

    public async ValueTask DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task A_pay_link_made_on_one_node_opens_on_another_and_the_key_lives_in_the_database()
    {
        await using var first = EngineServices.Create(_database);
        await using var second = EngineServices.Create(_database, first.Clock);
        var customer = Guid.NewGuid();
        var card = Guid.NewGuid();

        var token = first.Get<PayLinks>().TokenFor(customer, card);

        Assert.Equal(customer, second.Get<PayLinks>().Read(token).Link?.CustomerId);
        var keys = await KeysAsync();
        var key = Assert.Single(keys);
        Assert.Contains("<masterKey", key);
    }

    [Fact]
    public async Task With_a_certificate_the_stored_keys_are_encrypted_and_only_a_node_holding_it_reads_what_another_signed()
    {
        var settings = CertificateSettings();
        await using var first = EngineServices.Create(_database, settings: settings);
        await using var second = EngineServices.Create(_database, first.Clock, settings: settings);
        await using var withoutCertificate = EngineServices.Create(_database, first.Clock);
        var customer = Guid.NewGuid();

        var token = first.Get<PayLinks>().TokenFor(customer, null);

        var key = Assert.Single(await KeysAsync());
        Assert.Contains("<encryptedSecret", key);
        Assert.DoesNotContain("<masterKey", key);
        Assert.Equal(customer, second.Get<PayLinks>().Read(token).Link?.CustomerId);
        Assert.Equal(PayLinkRefusal.Invalid, withoutCertificate.Get<PayLinks>().Read(token).Refusal);
    }

    [Fact]
    public void A_certificate_that_does_not_open_stops_the_start_with_a_sentence()
    {
        var settings = CertificateSettings();
        settings["KeyRing:CertificatePassword"] = "not the password";

        var problem = Assert.ThrowsAny<Exception>(() => EngineServices.Create(_database, settings: settings));

        Assert.Contains("KeyRing:Certificate is not a base64 PKCS#12 certificate", problem.Message);
    }

    private static Dictionary<string, string?> CertificateSettings()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=BillingConsole key ring", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        return new Dictionary<string, string?>
        {
            ["KeyRing:Certificate"] = Convert.ToBase64String(certificate.Export(X509ContentType.Pfx, "secret")),
            ["KeyRing:CertificatePassword"] = "secret",
        };
    }

    private async Task<List<string>> KeysAsync()
    {
        await using var connection = await _database.DataSource.OpenConnectionAsync(Ct);
        return [.. await connection.QueryAsync<string>("select xml from data_protection_keys")];
    }
}

using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using StackExchange.Redis;

namespace BillingConsole.Tests.Engine;

public sealed class OperationsStatusTests
{
    [Fact]
    public async Task Redis_without_admin_commands_reads_as_connected_with_the_setting_to_change_not_as_a_failure()
    {
        var withoutAdmin = ConfigurationOptions.Parse(TestServers.RedisConfiguration);
        withoutAdmin.AllowAdmin = false;
        await using var database = await TestDatabases.CreateMigratedAsync("operations");
        await using var engine = EngineServices.Create(database, hangfire: true,
            settings: new Dictionary<string, string?> { ["Redis:Configuration"] = withoutAdmin.ToString() });

        var status = await engine.Get<OperationsStatus>().RedisAsync();

        Assert.True(status.Connected);
        Assert.Contains("allowAdmin=true", status.Error);
        Assert.Null(status.MaxMemoryPolicy);
    }
}

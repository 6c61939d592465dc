using System.Diagnostics;
using BillingConsole.Engine.Commands;
using BillingConsole.Engine.Events;
using BillingConsole.Jobs;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Hangfire;
using Microsoft.Extensions.Time.Testing;

namespace BillingConsole.Tests.Jobs;

/// <summary>
/// Event delivery with real processes: a node posting a backlog of events to a real receiver is killed (SIGKILL) at random
/// points three times, then restarted; in the end every event is delivered and the receiver has accepted every event id,
/// and nothing else (a kill between the receiver's answer and the commit may post an event again, always under its id).
/// </summary>
public sealed class EventKillTrialTests
{
    private const int Events = 150;
    private const int Kills = 3;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void Report(string line) => KillTrialNode.Report("event kill trials", line);

    private static Dictionary<string, string?> NodeEnvironment(MigratedDatabase database) => KillTrialNode.Environment(database, new Dictionary<string, string?>
    {
        ["Hangfire__WorkerCount"] = "2",
        ["Events__AllowedNetworks__0"] = "127.0.0.0/8",
        ["Events__DeliveryLanes"] = "4",
    });

    private static async Task<(int Delivered, int Pending)> ProgressAsync(MigratedDatabase database)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(Ct);
        return await connection.QuerySingleAsync<(int, int)>(
            "select count(*) filter (where status = 'delivered')::int, count(*) filter (where status = 'pending')::int from event_deliveries");
    }

    [Fact]
    public async Task A_node_killed_at_random_points_while_posting_events_three_times_delivers_every_event_and_the_receiver_accepts_each_id()
    {
        await using var database = await TestDatabases.CreateMigratedAsync("event_kills");
        await using var receiver = await EventReceiver.StartAsync();
        receiver.Delay = TimeSpan.FromMilliseconds(100);
        await using var engine = EngineServices.Create(database, new FakeTimeProvider(DateTimeOffset.UtcNow), hangfire: true,
            settings: new Dictionary<string, string?> { ["Hangfire:RunServer"] = "false", ["Events:AllowedNetworks:0"] = "127.0.0.0/8" });
        var registered = await engine.InScopeAsync<EventEndpointCommands, RegisteredEventEndpoint>(c => c.RegisterAsync(
            new RegisterEventEndpoint(receiver.Url, [EventTypes.CustomerUpdated], "CRM"), new Actor("admin@example.test", "admin"), "Kill trial", Ct));
        receiver.Secret = registered.Secret;
        var data = new BillingTestData(database, engine.Clock.GetUtcNow());
        var (_, price) = await data.PlanAsync(25m);
        await data.DueSubscriptionsAsync(price, Events, "pm_ok_");
        await using (var connection = await database.DataSource.OpenConnectionAsync(Ct))
            await connection.ExecuteAsync("update customers set name = name || ' Ltd'");
        var jobs = engine.Get<IBackgroundJobClient>();
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var starts = new NodeStarts();
        Report($"tried: {Events} pending events, the posting node killed {Kills} times at random points (seed {seed}), then restarted to finish");

        for (var trial = 1; trial <= Kills; trial++)
        {
            jobs.Enqueue<EventDeliveryJob>(job => job.RunAsync(CancellationToken.None));
            await using var node = await starts.StartAsync(NodeEnvironment(database));
            var delay = random.Next(1_500, 4_000);
            await Task.Delay(delay, Ct);
            await node.KillAsync();
            var (delivered, pending) = await ProgressAsync(database);
            Report($"kill {trial}: up in {node.StartupTime.TotalSeconds:F1} s, killed {delay} ms after; {delivered} delivered, {pending} pending, {receiver.Accepted.Count} accepted by the receiver");
        }

        jobs.Enqueue<EventDeliveryJob>(job => job.RunAsync(CancellationToken.None));
        await using (var node = await starts.StartAsync(NodeEnvironment(database)))
        {
            var finishing = Stopwatch.StartNew();
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while ((await ProgressAsync(database)).Pending > 0)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"Events still pending: {await ProgressAsync(database)}\n{node.Output}");
                await Task.Delay(250, Ct);
            }
            Report($"the last node delivered the rest {finishing.Elapsed.TotalSeconds:F1} s after it answered");
        }
        Report(starts.Summary());

        await using var check = await database.DataSource.OpenConnectionAsync(Ct);
        var ids = (await check.QueryAsync<Guid>("select event_id from event_deliveries where status = 'delivered'")).ToHashSet();
        var accepted = receiver.Accepted.Select(r => r.EventId).ToList();
        Report($"found: {ids.Count} of {Events} delivered, {accepted.Count} accepted posts, {accepted.Distinct().Count()} distinct event ids, " +
               $"{accepted.Count - accepted.Distinct().Count()} posted again after a kill between the answer and the commit");
        Assert.Equal(Events, ids.Count);
        Assert.True(ids.SetEquals(accepted), "Every event is accepted under its own id, and nothing else arrives.");
        Assert.All(receiver.All, r => Assert.True(r.SignatureValid));
    }
}

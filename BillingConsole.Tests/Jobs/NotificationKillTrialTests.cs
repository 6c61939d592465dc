using System.Diagnostics;
using BillingConsole.Engine.Notifications;
using BillingConsole.Jobs;
using BillingConsole.Tests.Infrastructure;
using Dapper;
using Hangfire;
using Microsoft.Extensions.Time.Testing;

namespace BillingConsole.Tests.Jobs;

/// <summary>
/// Delivery with real processes: a node delivering a backlog of emails to a real SMTP server is killed (SIGKILL) at random
/// points ten times, then restarted; in the end every notification is sent and the SMTP server holds exactly one message
/// per notification, counted by Message-Id (a kill between the server's acceptance and the commit may repeat a message,
/// always under the same Message-Id; docs/notifications.md).
/// </summary>
public sealed class NotificationKillTrialTests
{
    private const int Notifications = 400;
    private const int Kills = 10;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void Report(string line) => KillTrialNode.Report("notification kill trials", line);

    private static Dictionary<string, string?> NodeEnvironment(MigratedDatabase database, TestSmtpServer smtp) => KillTrialNode.Environment(database,
        new Dictionary<string, string?>(smtp.Settings().Select(s => KeyValuePair.Create(s.Key.Replace(":", "__", StringComparison.Ordinal), s.Value)))
        {
            ["Hangfire__WorkerCount"] = "2",
            ["Email__PerMinuteRate"] = "100000",
        });

    private static async Task<(int Sent, int Pending)> ProgressAsync(MigratedDatabase database)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(Ct);
        return await connection.QuerySingleAsync<(int, int)>(
            "select count(*) filter (where status = 'sent')::int, count(*) filter (where status = 'pending')::int from notifications");
    }

    [Fact]
    public async Task A_node_killed_at_random_points_while_delivering_ten_times_delivers_every_email_exactly_once_by_message_id()
    {
        await using var database = await TestDatabases.CreateMigratedAsync("notification_kills");
        using var smtp = TestSmtpServer.Start();
        await using var engine = EngineServices.Create(database, new FakeTimeProvider(DateTimeOffset.UtcNow), hangfire: true,
            settings: new Dictionary<string, string?> { ["Hangfire:RunServer"] = "false" });
        var data = new BillingTestData(database, engine.Clock.GetUtcNow());
        var (_, price) = await data.PlanAsync(25m);
        await data.DueSubscriptionsAsync(price, Notifications, "pm_ok_");
        await using (var connection = await database.DataSource.OpenConnectionAsync(Ct))
        {
            await connection.ExecuteAsync($"""
                insert into notifications (id, customer_id, kind, event_key, status, attempts, created_at, next_attempt_at)
                select gen_random_uuid(), c.id, '{NotificationKinds.CardUpdateLink}', c.id::text, 'pending', 0, now() - interval '1 minute', now() - interval '1 minute'
                from customers c
                """);
        }
        var jobs = engine.Get<IBackgroundJobClient>();
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var starts = new NodeStarts();
        Report($"tried: {Notifications} pending emails, the delivering node killed {Kills} times at random points (seed {seed}), then restarted to finish");

        for (var trial = 1; trial <= Kills; trial++)
        {
            jobs.Enqueue<NotificationDeliveryJob>(job => job.RunAsync(CancellationToken.None));
            await using var node = await starts.StartAsync(NodeEnvironment(database, smtp));
            // Killed once it has sent a random part of the backlog, so that every kill lands while emails go out and the
            // last kills still meet a backlog (after a fixed delay, a fast node had sent everything by the fifth kill).
            var (sentBefore, _) = await ProgressAsync(database);
            var target = sentBefore + random.Next(1, Notifications / (Kills + 2));
            var delivering = Stopwatch.StartNew();
            while ((await ProgressAsync(database)).Sent < target)
            {
                if (delivering.Elapsed > TimeSpan.FromMinutes(1)) throw new TimeoutException($"The node sent nothing more for a minute.\n{node.Output}");
                await Task.Delay(random.Next(1, 40), Ct);
            }
            await node.KillAsync();
            var (sent, pending) = await ProgressAsync(database);
            Report($"kill {trial}: up in {node.StartupTime.TotalSeconds:F1} s, killed {delivering.ElapsedMilliseconds} ms after, {target - sentBefore} or more sent; " +
                   $"{sent} sent, {pending} pending, {smtp.Messages.Count} messages at the server");
        }

        var (sentBeforeTheLastNode, _) = await ProgressAsync(database);
        jobs.Enqueue<NotificationDeliveryJob>(job => job.RunAsync(CancellationToken.None));
        await using (var node = await starts.StartAsync(NodeEnvironment(database, smtp)))
        {
            var finishing = Stopwatch.StartNew();
            var deadline = DateTime.UtcNow.AddMinutes(3);
            while ((await ProgressAsync(database)).Pending > 0)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"Emails still pending: {await ProgressAsync(database)}\n{node.Output}");
                await Task.Delay(500, Ct);
            }
            Report($"the last node delivered the rest {finishing.Elapsed.TotalSeconds:F1} s after it answered");
        }
        Report(starts.Summary());

        await using var check = await database.DataSource.OpenConnectionAsync(Ct);
        var ids = (await check.QueryAsync<Guid>("select id from notifications where status = 'sent'")).Select(id => $"{id:N}@demo.example").ToHashSet();
        var received = smtp.Messages.Select(m => m.MessageId ?? "(none)").ToList();
        Report($"found: {ids.Count} of {Notifications} sent, {received.Count} messages at the server, {received.Distinct().Count()} distinct Message-Ids, " +
               $"{received.Count - received.Distinct().Count()} repeated after a kill between acceptance and commit");
        Assert.Equal(Notifications, ids.Count);
        Assert.True(sentBeforeTheLastNode < Notifications, "The last kill met a backlog.");
        Assert.True(ids.SetEquals(received), "Every notification arrives under its own Message-Id, and nothing else arrives.");
    }
}

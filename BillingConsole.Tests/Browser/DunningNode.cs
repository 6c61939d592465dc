using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using BillingConsole.Domain.Dunning;
using BillingConsole.Engine.Commands;
using BillingConsole.Jobs;
using BillingConsole.Tests.Infrastructure;
using Hangfire;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using MimeKit;

namespace BillingConsole.Tests.Browser;

/// <summary>
/// A console node of its own for the dunning scenarios: its own database, engine clock and SMTP server, served on a port
/// chromium can open. Its jobs are run here as Hangfire would run them while the test moves the clock.
/// </summary>
public sealed class DunningNode : IAsyncDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly ConsoleAppHost _host;
    private readonly RecordingJobClient _jobs = new();
    private WebApplicationFactory<Program> _node = null!;

    private DunningNode(ConsoleAppHost host, MigratedDatabase database, TestSmtpServer smtp)
    {
        _host = host;
        Database = database;
        Smtp = smtp;
        BaseAddress = new Uri($"http://127.0.0.1:{ConsoleAppHost.FreePort()}");
    }

    public FakeTimeProvider Clock { get; } = new(EngineServices.DefaultNow);
    public MigratedDatabase Database { get; }
    public TestSmtpServer Smtp { get; }
    public Uri BaseAddress { get; }
    public IServiceProvider Services => _node.Services;
    public BillingTestData Data => new(Database, Clock.GetUtcNow());

    /// <param name="settings">Settings of this node over the defaults (e.g. the Stripe stand-in).</param>
    public static async Task<DunningNode> StartAsync(ConsoleAppHost host, string databaseName, IReadOnlyDictionary<string, string>? settings = null)
    {
        var node = new DunningNode(host, await TestDatabases.CreateMigratedAsync(databaseName), TestSmtpServer.Start());
        var all = new Dictionary<string, string>
        {
            ["urls"] = node.BaseAddress.ToString(),
            ["ConnectionStrings:Billing"] = node.Database.ConnectionString,
            ["PayPage:PublicBaseUrl"] = node.BaseAddress.ToString().TrimEnd('/'),
        };
        foreach (var (key, value) in node.Smtp.Settings()) all[key] = value!;
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) all[key] = value;
        node._node = InMemoryNode.Create(all, services =>
        {
            services.AddSingleton<TimeProvider>(node.Clock);
            // Billing chunks are run by the test, as a Hangfire worker would run them.
            services.AddSingleton<IBackgroundJobClient>(node._jobs);
        });
        node._node.UseKestrel();
        node._node.StartServer();
        return node;
    }

    public async ValueTask DisposeAsync()
    {
        await InMemoryNode.DisposeAsync(_node, _host);
        Smtp.Dispose();
        await Database.DisposeAsync();
    }

    /// <summary>The dunning policy in force from now on: <paramref name="adjust"/> applied to the defaults.</summary>
    public async Task UsePolicyAsync(Func<DunningPolicySettings, DunningPolicySettings> adjust)
    {
        await using var db = Database.NewContext();
        db.DunningPolicies.Add(new DunningPolicyVersion(1, adjust(DunningPolicySettings.Default), "test", "The scenario's policy", Clock.GetUtcNow()));
        await db.SaveChangesAsync(Ct);
    }

    public async Task RunAsync<TJob>(Func<TJob, Task> run) where TJob : notnull
    {
        await using var scope = _node.Services.CreateAsyncScope();
        await run(ActivatorUtilities.CreateInstance<TJob>(scope.ServiceProvider));
    }

    /// <summary>The scheduled billing run, its chunks, and the outbox.</summary>
    public async Task RunBillingAsync()
    {
        await RunAsync<BillingCycleJob>(job => job.RunAsync(Ct));
        foreach (var (runId, chunk) in _jobs.TakeChunks()) await RunAsync<BillingChunkJob>(job => job.RunAsync(runId, chunk, Ct));
        await RunAsync<NotificationDeliveryJob>(job => job.RunAsync(Ct));
    }

    /// <summary>What the recurring jobs do in a day: due retries, the ladder pass, the outbox.</summary>
    public async Task RunTheDaysJobsAsync()
    {
        await RunAsync<DunningRetryJob>(job => job.RunAsync(Ct));
        await RunAsync<DunningLadderJob>(job => job.RunAsync(Ct));
        await RunAsync<NotificationDeliveryJob>(job => job.RunAsync(Ct));
    }

    public List<MimeMessage> EmailsTo(string address) => [.. Smtp.Messages.Where(m => m.To.Mailboxes.Single().Address == address)];

    public static string Text(MimeMessage message) =>
        message.BodyParts.OfType<TextPart>().Single(p => p.ContentType.MediaSubtype == "plain" && !p.IsAttachment).Text;

    public string PayLinkIn(MimeMessage message) =>
        Regex.Match(Text(message), Regex.Escape(BaseAddress.ToString()) + @"pay/\S+").Value;

    public async Task<HttpClient> ApiClientAsync()
    {
        await using var scope = _node.Services.CreateAsyncScope();
        var key = await scope.ServiceProvider.GetRequiredService<ApiKeys>().CreateAsync("dunning-end-to-end", Ct);
        var http = new HttpClient { BaseAddress = BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
        return http;
    }

    public static Task<HttpResponseMessage> ChangePlanAsync(HttpClient api, Guid subscriptionId, Guid priceId)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/subscriptions/{subscriptionId}/change-plan")
        {
            Content = JsonContent.Create(new { priceId, quantity = 1 }),
        };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        return api.SendAsync(request, Ct);
    }
}

using System.Text;
using MimeKit;
using netDumbster.smtp;

namespace BillingConsole.Tests.Infrastructure;

/// <summary>A real SMTP server in the test process (netDumbster) on a free loopback port; the messages it received, parsed by MimeKit.</summary>
public sealed class TestSmtpServer : IDisposable
{
    private readonly SimpleSmtpServer _server;

    private TestSmtpServer(SimpleSmtpServer server, int port)
    {
        _server = server;
        Port = port;
    }

    public int Port { get; }

    public static TestSmtpServer Start() => StartOn(ConsoleAppHost.FreePort());

    public static TestSmtpServer StartOn(int port) => new(SimpleSmtpServer.Start(port), port);

    public IReadOnlyList<MimeMessage> Messages =>
        [.. _server.ReceivedEmail.Select(m => MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(m.Data))))];

    /// <summary>The settings that point the engine at this server.</summary>
    public Dictionary<string, string?> Settings() => SettingsFor(Port);

    public static Dictionary<string, string?> SettingsFor(int port) => new()
    {
        ["Email:Host"] = "127.0.0.1",
        ["Email:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Email:From"] = "Demo Billing <billing@demo.example>",
        ["Email:ReplyTo"] = "support@demo.example",
        ["Email:TimeoutSeconds"] = "5",
    };

    public void Dispose() => _server.Stop();
}

using Microsoft.Playwright;

[assembly: AssemblyFixture(typeof(BillingConsole.Tests.Infrastructure.BrowserFixture))]

namespace BillingConsole.Tests.Infrastructure;

/// <summary>One headless Debian chromium for the run, driven by Playwright; each test opens its own context (cookies, storage).</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public static string ArtifactsDirectory { get; } = Path.Combine(RepositoryRoot(), "TestResults", "screenshots");

    public async ValueTask InitializeAsync()
    {
        if (PureRun.IsOn) return;
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        Directory.CreateDirectory(ArtifactsDirectory);
        Assertions.SetDefaultExpectTimeout(20_000);
    }

    /// <param name="ignoreHttpsErrors">For a proxy's self-signed local certificate (the proxied topology's nginx).</param>
    public async Task<IBrowserContext> NewContextAsync(Uri baseAddress, bool ignoreHttpsErrors = false)
    {
        var browser = _browser ?? throw PureRun.NotStarted("browser");
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1440, Height = 1000 },
            Locale = "en-US",
            TimezoneId = "UTC",
            IgnoreHTTPSErrors = ignoreHttpsErrors,
        });
        // Two cores run the whole suite in parallel: a page may take a while to answer, which is not what these tests measure.
        context.SetDefaultTimeout(60_000);
        context.SetDefaultNavigationTimeout(90_000);
        return context;
    }

    public static async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsDirectory, name + ".png"), FullPage = true });

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
    }

    /// <summary>The checkout the tests run from (the folder holding BillingConsole.sln).</summary>
    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "BillingConsole.sln"))) directory = directory.Parent;
        return directory?.FullName ?? AppContext.BaseDirectory;
    }
}

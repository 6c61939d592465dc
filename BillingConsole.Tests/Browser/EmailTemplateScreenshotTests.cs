using BillingConsole.Engine.Notifications;
using BillingConsole.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BillingConsole.Tests.Browser;

/// <summary>
/// Each shipped email's HTML part as chromium shows it, at a desktop mail client's width and at a phone's: screenshots go
/// to TestResults/screenshots (email-*.png) to be looked at; the checks catch what breaks reading on a phone.
/// </summary>
public sealed class EmailTemplateScreenshotTests(BrowserFixture browser)
{
    public static TheoryData<string> ShippedKinds => [.. NotificationKinds.Shipped];

    private static readonly string[] AsksForACard =
    [
        NotificationKinds.PaymentFailed, NotificationKinds.DunningNotice, NotificationKinds.FinalNotice, NotificationKinds.SubscriptionUnpaid, NotificationKinds.CardExpiring,
        NotificationKinds.CardUpdateLink,
    ];

    [Theory]
    [MemberData(nameof(ShippedKinds))]
    public async Task A_shipped_email_reads_well_on_a_desktop_and_on_a_phone(string kind)
    {
        var email = NotificationTemplates.Render(NotificationTemplates.Default(kind), NotificationVariables.Sample);
        await using var context = await browser.NewContextAsync(new Uri("http://127.0.0.1/"));
        var page = await context.NewPageAsync();

        foreach (var (width, name) in new[] { (800, "desktop"), (390, "phone") })
        {
            await page.SetViewportSizeAsync(width, 900);
            await page.SetContentAsync(email.Html);
            await BrowserFixture.ScreenshotAsync(page, $"email-{kind}-{name}");

            await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeVisibleAsync();
            await Expect(page.GetByText("BillingConsole Demo Ltd").First).ToBeVisibleAsync();
            // Nothing wider than the screen: no sideways scrolling on a phone.
            Assert.True(await page.EvaluateAsync<int>("document.documentElement.scrollWidth") <= width, $"{kind} scrolls sideways at {width} px");
            var button = page.GetByRole(AriaRole.Link, new() { Name = "Update your card" });
            if (AsksForACard.Contains(kind))
            {
                await Expect(button).ToHaveAttributeAsync("href", NotificationVariables.Sample.UpdateCardUrl);
                var box = await button.BoundingBoxAsync();
                Assert.True(box is { Width: > 100, Height: >= 40 }, $"{kind}: the update-card button is too small to tap ({box?.Width}×{box?.Height})");
            }
            else
            {
                await Expect(button).ToHaveCountAsync(0);
            }
        }
    }
}

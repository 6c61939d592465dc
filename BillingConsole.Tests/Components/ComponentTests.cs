using BillingConsole.Api;
using BillingConsole.Components.Shared;
using BillingConsole.Engine.Notifications;
using BillingConsole.Extensions;
using BillingConsole.ReadModels;
using BillingConsole.Tests.Infrastructure;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace BillingConsole.Tests.Components;

[PureTests]
public sealed class ComponentTests : IAsyncDisposable
{
    private readonly BunitContext _context = new();

    public ComponentTests()
    {
        _context.Services.AddMudServices();
        _context.JSInterop.Mode = JSRuntimeMode.Loose;
    }

    [Theory]
    [InlineData(12.5, "USD", "$12.50")]
    [InlineData(-12, "EUR", "-€12.00")]
    [InlineData(1200, "JPY", "¥1,200")]
    [InlineData(1234567.891, "GBP", "£1,234,567.89")]
    public void MoneyText_formats_by_the_currency_minor_units(decimal amount, string currency, string expected)
    {
        var cut = _context.Render<MoneyText>(p => p.Add(x => x.Amount, amount).Add(x => x.Currency, currency));

        Assert.Equal(expected, cut.Find("span").TextContent);
    }

    [Fact]
    public void ReportingAmount_shows_the_total_in_the_reporting_currency_and_its_currencies_one_click_away_or_says_which_rate_is_missing()
    {
        var rates = new BillingConsole.Engine.Accounting.ExchangeRates("EUR", [new("USD", "EUR", 0.5m, new DateOnly(2027, 5, 1))]);
        IReadOnlyList<BillingConsole.ReadModels.CurrencyAmount> amounts = [new("EUR", 10m), new("USD", 100m)];

        var cut = _context.Render<ReportingAmount>(p => p.Add(x => x.Amounts, amounts).Add(x => x.Rates, rates)
            .Add(x => x.On, new DateOnly(2027, 5, 31)).Add(x => x.Factor, 12m).Add(x => x.TestId, "arr"));

        Assert.Equal("€720.00", cut.Find("[data-testid=arr-amount]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=arr-currencies]"));
        cut.Find("[data-testid=arr-toggle]").Click();
        Assert.Equal(["€120.00", "$1,200.00"], cut.FindAll("[data-testid=arr-currencies] .money").Select(e => e.TextContent));

        cut.Render(p => p.Add(x => x.On, new DateOnly(2027, 4, 30)));
        Assert.Contains("no rate to EUR is in force on 2027-04-30 for USD", cut.Find("[data-testid=arr-missing]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=arr-amount]"));
        Assert.Equal(2, cut.FindAll("[data-testid=arr-currencies] .money").Count);
    }

    [Theory]
    [InlineData("paid", Color.Success)]
    [InlineData("past_due", Color.Warning)]
    [InlineData("uncollectible", Color.Error)]
    [InlineData("open", Color.Info)]
    [InlineData("void", Color.Default)]
    public void StatusChip_shows_the_status_in_words_with_its_colour(string status, Color color)
    {
        var cut = _context.Render<StatusChip>(p => p.Add(x => x.Status, status));

        Assert.Equal(status.Replace('_', ' '), cut.Find(".mud-chip").TextContent.Trim());
        Assert.Equal(color, StatusChip.ColorFor(status));
    }

    [Fact]
    public void DateFilter_refuses_a_date_it_cannot_read_and_keeps_the_old_value()
    {
        DateOnly? value = new DateOnly(2026, 3, 1);
        var cut = _context.Render<DateFilter>(p => p.Add(x => x.Value, value).Add(x => x.Label, "Due from")
            .Add(x => x.ValueChanged, (DateOnly? changed) => value = changed));

        cut.Find("input").Change("31/02/2026");

        Assert.Equal(new DateOnly(2026, 3, 1), value);
        Assert.Contains("Use a date like 2026-03-31.", cut.Markup);
    }

    [Fact]
    public void List_filters_round_trip_through_the_query_string_and_report_bad_values()
    {
        var filter = new InvoiceListFilter { Status = "open", DueTo = new DateOnly(2026, 10, 27), MinAmount = 10.5m, Search = "a&b" };

        var query = ListFilters.ToQueryString(filter);
        var (parsed, errors) = ListFilters.Parse<InvoiceListFilter>($"http://x/invoices{query}");
        var (_, bad) = ListFilters.Parse<InvoiceListFilter>("http://x/invoices?dueTo=yesterday&minAmount=NaN");

        Assert.Equal(filter, parsed);
        Assert.Empty(errors);
        Assert.Equal(2, bad.Count);
    }

    [Theory]
    [InlineData("http://x/invoices?status=bogus", "'bogus' is not a status: choose one of draft, open, paid, void, uncollectible.")]
    [InlineData("http://x/invoices?status=Open", "'Open' is not a status: choose one of draft, open, paid, void, uncollectible.")]
    public void A_filter_value_that_names_no_status_is_refused_with_the_ones_that_exist(string address, string error)
    {
        var (filter, errors) = ListFilters.Parse<InvoiceListFilter>(address);
        Assert.Equal([error], errors);
        Assert.Null(filter.Status);
    }

    [Fact]
    public void Money_reads_the_same_everywhere_one_currency_or_several()
    {
        Assert.Equal("€5,842.15", AmountsText.Of(5842.15m, "EUR"));
        Assert.Equal("-$9,990.00", AmountsText.Of(-9990m, "usd"));
        Assert.Equal("¥1,200", AmountsText.Of(1200m, "JPY"));
        Assert.Equal("€599.84 · $1,294.00", AmountsText.PerCurrency(new Dictionary<string, decimal> { ["USD"] = 1294m, ["EUR"] = 599.84m }));
        Assert.Equal("nothing", AmountsText.PerCurrency(new Dictionary<string, decimal>()));
    }

    [Fact]
    public void Every_status_and_trigger_a_list_offers_is_accepted()
    {
        Assert.Empty(ListFilters.Parse<PaymentListFilter>("http://x/payments?status=refund_due&trigger=auto_collection").Errors);
        Assert.Empty(ListFilters.Parse<DunningQueueFilter>("http://x/dunning?status=awaiting_payment_method").Errors);
        Assert.Empty(ListFilters.Parse<SubscriptionListFilter>("http://x/subscriptions?status=past_due").Errors);
    }

    [Theory]
    [InlineData("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\"")]
    [InlineData("Smith, Jane", "\"Smith, Jane\"")]
    [InlineData("plain", "plain")]
    public void Csv_cells_are_quoted_and_formulas_defused(string value, string expected) =>
        Assert.Equal(expected, CsvExport.Cell(value));

    [Fact]
    public void The_emails_list_shows_the_newest_ten_and_the_older_ones_on_request()
    {
        var support = _context.AddAuthorization();
        support.SetAuthorized("Dana Support");
        support.SetPolicies(ConsolePolicies.Support);
        var newest = new DateTimeOffset(2026, 11, 28, 0, 5, 0, TimeSpan.Zero);
        var rows = Enumerable.Range(0, 14).Select(i => new NotificationRow(Guid.NewGuid(), NotificationKinds.InvoiceIssued, "sent",
            "ada@example.test", $"Invoice {i + 1}", 1, null, newest.AddMonths(-i), newest.AddMonths(-i), null, null, null)).ToList();

        var cut = _context.Render<NotificationList>(p => p.Add(x => x.Rows, rows));

        Assert.Equal([.. Enumerable.Range(1, NotificationList.FirstShown).Select(i => $"Invoice {i}")], Subjects(cut));
        Assert.Equal(NotificationList.FirstShown, cut.FindAll("[data-testid=resend-notification]").Count);
        cut.Find("[data-testid=notifications-show-older]").Click();
        Assert.Equal([.. Enumerable.Range(1, 14).Select(i => $"Invoice {i}")], Subjects(cut));
        Assert.Empty(cut.FindAll("[data-testid=notifications-show-older]"));

        static IEnumerable<string> Subjects(IRenderedComponent<NotificationList> list) =>
            list.FindAll("[data-testid=notification-row] td:first-child .figure-sub:not(.phone-only)").Select(e => e.TextContent);
    }

    public ValueTask DisposeAsync() => _context.DisposeAsync();
}

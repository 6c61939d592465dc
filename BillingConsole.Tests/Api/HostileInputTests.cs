using System.Net;
using System.Text;
using BillingConsole.Engine.Commands;
using BillingConsole.Tests.Infrastructure;
using FsCheck;
using FsCheck.Xunit;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Api;

/// <summary>
/// Input written to break things, beyond the field rules the other API tests cover: numbers out of range for their type,
/// text PostgreSQL cannot store, nesting deep enough to exhaust a parser, and markup or SQL that must be stored as plain text.
/// </summary>
public sealed class HostileInputTests(ConsoleAppHost host) : ApiTestBase(host)
{
    public static TheoryData<string, string> HostileQuantities => new()
    {
        { "2147483648", "past the largest whole number" },
        { "1e309", "past the largest double" },
        { "-1", "negative" },
        { "1.5", "a fraction" },
        { "\"NaN\"", "NaN as text" },
        { "true", "a boolean" },
        { "[1]", "an array" },
    };

    [Theory]
    [MemberData(nameof(HostileQuantities))]
    public async Task A_quantity_out_of_range_for_its_type_is_400_naming_it_and_nothing_is_written(string quantity, string because)
    {
        var customer = await Api.CreateCustomerAsync();
        var price = await Api.CreatePriceAsync("Basic", 30m);
        var before = await Api.CountRowsAsync(customer.Id);
        var body = $$"""{"customerId":"{{customer.Id}}","priceId":"{{price}}","quantity":{{quantity}}}""";

        var response = await Api.SendRawAsync(HttpMethod.Post, "/api/v1/subscriptions", new StringContent(body, Encoding.UTF8, "application/json"), Guid.NewGuid());

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.Errors?.ContainsKey("quantity"), $"{because}: {problem.Detail} {string.Join(", ", problem.Errors?.Keys ?? Enumerable.Empty<string>())}");
        Assert.Equal(before, await Api.CountRowsAsync(customer.Id));
    }

    public static TheoryData<string, string> UnstorableText => new()
    {
        { "name", "Ada\u0000Lovelace" },
        { "name", "Ada\u0007Lovelace" },
        { "email", "ada\u0000@example.com" },
        { "externalRef", "ref\u0000" },
    };

    [Theory]
    [MemberData(nameof(UnstorableText))]
    public async Task Control_characters_in_text_are_400_naming_the_field_and_nothing_is_written(string field, string value)
    {
        var body = System.Text.Json.JsonSerializer.SerializeToNode(Api.NewCustomer(), ApiTestClient.Json)!.AsObject();
        body[field] = value;
        var before = await Api.CountRowsAsync();

        var response = await Api.SendRawAsync(HttpMethod.Post, "/api/v1/customers", ApiTestClient.JsonBody(body), Guid.NewGuid());

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.Errors?.ContainsKey(field), $"errors should name '{field}': {problem.Detail}");
        Assert.Equal(before, await Api.CountRowsAsync());
    }

    public static TheoryData<string, byte[]> UndecodableText => new()
    {
        { "name", """{"name":"x\ud800y","email":"ada@example.com","currency":"USD"}"""u8.ToArray() },
        { "name", """{"name":"\udc00","email":"ada@example.com","currency":"USD"}"""u8.ToArray() },
        { "externalRef", [.. """{"name":"Ada","email":"ada@example.com","currency":"USD","externalRef":"a"""u8, 0xC3, 0x28, .. "\"}"u8] },
        { "address.line1", [.. """{"name":"Ada","email":"ada@example.com","currency":"USD","address":{"line1":"1 """u8, 0xFF, .. " St\",\"city\":\"London\",\"postalCode\":\"N1\",\"country\":\"GB\"}}"u8] },
    };

    [Theory]
    [MemberData(nameof(UndecodableText))]
    public async Task Text_that_is_not_valid_Unicode_is_400_naming_the_field_and_nothing_is_written(string field, byte[] body)
    {
        var before = await Api.CountRowsAsync();
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        var response = await Api.SendRawAsync(HttpMethod.Post, "/api/v1/customers", content, Guid.NewGuid());

        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.DoesNotContain("Exception", text);
        Assert.DoesNotContain(Api.Key.Key, text);
        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.Errors?.ContainsKey(field), $"errors should name '{field}': {text}");
        Assert.Equal(before, await Api.CountRowsAsync());
    }

    [Property(MaxTest = 60, Arbitrary = [typeof(HostileText)])]
    public async Task Any_text_in_any_field_is_stored_or_refused_with_a_4xx_and_never_half_written(HostileText hostile, PositiveInt pick)
    {
        var marker = $"{Guid.NewGuid():N}@example.com";
        var field = ProfileFields[pick.Get % ProfileFields.Length];
        string Value(string name, string ordinary) => name == field ? "\u0001" : $"\"{ordinary}\"";
        var template = $$$"""{"name":{{{Value("name", "Ada")}}},"email":"{{{marker}}}","currency":"USD","externalRef":{{{Value("externalRef", "ref")}}},"address":{"line1":{{{Value("address.line1", "1 Main St")}}},"city":"London","postalCode":"N1","country":"GB"}}""";
        var at = template.IndexOf("\u0001", StringComparison.Ordinal);
        var content = new ByteArrayContent(hostile.Between(template[..at], template[(at + "\u0001".Length)..]));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var audit = (await Api.CountRowsAsync()).AuditEntries;

        using var response = await Api.SendRawAsync(HttpMethod.Post, "/api/v1/customers", content, Guid.NewGuid());

        var status = (int)response.StatusCode;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status is 201 or (>= 400 and < 500), $"{status}: {text}");
        Assert.DoesNotContain("Exception", text);
        var stored = await Api.WithDbAsync(db => db.Customers.CountAsync(c => c.Email == marker));
        var audited = (await Api.CountRowsAsync()).AuditEntries - audit;
        Assert.Equal(status == 201 ? (1, 1) : (0, 0), (stored, audited));
    }

    private static readonly string[] ProfileFields = ["name", "externalRef", "address.line1"];

    [Fact]
    public void A_list_filter_with_a_control_character_is_an_error_and_not_applied()
    {
        var (filter, errors) = BillingConsole.Components.Shared.ListFilters.Parse<BillingConsole.ReadModels.CustomerListFilter>(
            new Dictionary<string, Microsoft.Extensions.Primitives.StringValues> { ["search"] = "ada\u0000" });

        Assert.Null(filter.Search);
        Assert.Equal(["The search contains a NUL character (U+0000)."], errors);
    }

    [Fact]
    public void Every_command_and_reason_refuses_control_characters_with_a_message_naming_the_field()
    {
        const string hostile = "why\u0000not";
        var update = new UpdateCustomerValidator().Validate(new UpdateCustomer(hostile, null, null, new AddressInput("1\u0007", null, "London", "N1", "GB"), "r\ud800"));
        var policy = new SaveDunningPolicyValidator().Validate(new SaveDunningPolicy { Reason = hostile });

        Assert.Equal(["Address.Line1", "ExternalRef", "Name"], update.Errors.Select(e => e.PropertyName).Order());
        Assert.Contains(policy.Errors, e => e.PropertyName == "Reason" && e.ErrorMessage.Contains("NUL"));
        var refused = Assert.Throws<BillingConsole.Domain.Common.DomainRuleException>(() => AuditTrail.RequireReason(hostile));
        Assert.Contains("NUL", refused.Message);
    }

    [Fact]
    public async Task Nesting_deeper_than_the_parser_allows_is_400_and_nothing_is_written()
    {
        var deep = new string('[', 5_000) + new string(']', 5_000);
        var body = $$"""{"name":"Ada","email":"ada@example.com","currency":"USD","externalRef":{{deep}}}""";
        var before = await Api.CountRowsAsync();

        var response = await Api.SendRawAsync(HttpMethod.Post, "/api/v1/customers", new StringContent(body, Encoding.UTF8, "application/json"), Guid.NewGuid());

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.StartsWith("The request body is not valid JSON", problem.Detail);
        Assert.Equal(before, await Api.CountRowsAsync());
    }

    public const string Markup = "<script>window.__owned=1</script><img src=x onerror=\"window.__owned=2\">";
    public const string Sql = "Robert'); DROP TABLE customers;--";

    [Fact]
    public async Task Markup_and_SQL_in_text_are_stored_and_answered_exactly_as_sent()
    {
        var body = System.Text.Json.JsonSerializer.SerializeToNode(Api.NewCustomer(), ApiTestClient.Json)!.AsObject();
        body["name"] = Markup;
        body["externalRef"] = Sql;

        var created = await Api.ReadAsync<CustomerView>(await Api.SendRawAsync(HttpMethod.Post, "/api/v1/customers", ApiTestClient.JsonBody(body), Guid.NewGuid()),
            HttpStatusCode.Created);

        Assert.Equal((Markup, Sql), (created.Name, created.ExternalRef));
        var stored = await Api.WithDbAsync(db => db.Customers.Where(c => c.Id == created.Id).Select(c => new { c.Name, c.ExternalRef }).SingleAsync());
        Assert.Equal((Markup, Sql), (stored.Name, stored.ExternalRef));
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using BillingConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Tests.Api;

/// <summary>What every /api request goes through: API keys, the Idempotency-Key header, body checks, OpenAPI.</summary>
public sealed class ApiTransportTests(ConsoleAppHost host) : ApiTestBase(host)
{
    [Fact]
    public async Task Without_an_API_key_the_answer_is_401_and_nothing_is_written()
    {
        using var anonymous = Host.CreateClient();
        var before = await Api.CountRowsAsync();

        var post = await anonymous.PostAsync("/api/v1/customers", ApiTestClient.JsonBody(Api.NewCustomer()), TestContext.Current.CancellationToken);
        var get = await anonymous.GetAsync($"/api/v1/customers/{Guid.NewGuid()}/invoices", TestContext.Current.CancellationToken);

        Assert.Contains("API key is required", (await Problem.ReadAsync(post, HttpStatusCode.Unauthorized)).Detail);
        Assert.Equal(HttpStatusCode.Unauthorized, get.StatusCode);
        Assert.Contains("Bearer", post.Headers.WwwAuthenticate.ToString());
        Assert.Equal(before, await Api.CountRowsAsync());
    }

    [Theory]
    [InlineData("bk_000000000000_0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("not-a-key")]
    public async Task An_invalid_API_key_is_401(string key)
    {
        using var client = Host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

        var response = await client.GetAsync($"/api/v1/customers/{Guid.NewGuid()}/invoices", TestContext.Current.CancellationToken);

        Assert.Contains("not valid", (await Problem.ReadAsync(response, HttpStatusCode.Unauthorized)).Detail);
    }

    [Fact]
    public async Task A_key_with_one_wrong_character_is_refused()
    {
        using var client = Host.CreateClient();
        var tampered = Api.Key.Key[..^1] + (Api.Key.Key[^1] == '0' ? '1' : '0');
        client.DefaultRequestHeaders.Add("X-Api-Key", tampered);

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync($"/api/v1/customers/{Guid.NewGuid()}/invoices", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task The_key_also_works_in_the_X_Api_Key_header()
    {
        using var client = Host.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", Api.Key.Key);
        client.DefaultRequestHeaders.Add("Idempotency-Key", Guid.NewGuid().ToString());

        var response = await client.PostAsync("/api/v1/customers", ApiTestClient.JsonBody(Api.NewCustomer()), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task A_change_without_an_Idempotency_Key_is_400_naming_the_header()
    {
        var before = await Api.CountRowsAsync();

        var response = await Api.SendRawAsync(HttpMethod.Post, "/api/v1/customers", ApiTestClient.JsonBody(Api.NewCustomer()), idempotencyKey: null);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("Idempotency-Key", problem.Errors!.Keys);
        Assert.Equal(before, await Api.CountRowsAsync());
    }

    [Theory]
    [InlineData("12345")]
    [InlineData("00000000-0000-0000-0000-000000000000")]
    public async Task An_Idempotency_Key_that_is_not_a_UUID_is_400(string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/customers") { Content = ApiTestClient.JsonBody(Api.NewCustomer()) };
        request.Headers.Add("Idempotency-Key", key);

        var response = await Api.Http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Contains("Idempotency-Key", (await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).Errors!.Keys);
    }

    [Fact]
    public async Task Malformed_JSON_is_400_with_the_parser_message()
    {
        var response = await Api.SendRawAsync(HttpMethod.Post, "/api/v1/customers",
            new StringContent("""{"name": "Ada", """, Encoding.UTF8, "application/json"), Guid.NewGuid());

        Assert.Contains("not valid JSON", (await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).Detail);
    }

    [Fact]
    public async Task A_body_that_is_not_an_object_or_is_missing_is_400()
    {
        var array = await Api.SendRawAsync(HttpMethod.Post, "/api/v1/customers", new StringContent("[]", Encoding.UTF8, "application/json"), Guid.NewGuid());
        var empty = await Api.SendRawAsync(HttpMethod.Post, "/api/v1/customers", null, Guid.NewGuid());

        await Problem.ReadAsync(array, HttpStatusCode.BadRequest);
        Assert.Contains("needs a JSON body", (await Problem.ReadAsync(empty, HttpStatusCode.BadRequest)).Detail);
    }

    [Fact]
    public async Task A_body_that_is_not_JSON_is_415()
    {
        var response = await Api.SendRawAsync(HttpMethod.Post, "/api/v1/customers",
            new StringContent("name=Ada", Encoding.UTF8, "application/x-www-form-urlencoded"), Guid.NewGuid());

        Assert.Contains("application/json", (await Problem.ReadAsync(response, HttpStatusCode.UnsupportedMediaType)).Detail);
    }

    [Fact]
    public async Task A_body_over_64_KB_is_413_and_nothing_is_written()
    {
        var before = await Api.CountRowsAsync();
        var body = JsonSerializer.Serialize(new { name = new string('a', 70_000), email = "a@example.com", currency = "USD" });

        var sized = await Api.SendRawAsync(HttpMethod.Post, "/api/v1/customers", new StringContent(body, Encoding.UTF8, "application/json"), Guid.NewGuid());
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body)));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/customers") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var streamed = await Api.Http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Contains("64 KB", (await Problem.ReadAsync(sized, HttpStatusCode.RequestEntityTooLarge)).Detail);
        await Problem.ReadAsync(streamed, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(before, await Api.CountRowsAsync());
    }

    [Fact]
    public async Task An_unknown_API_path_is_a_404_problem_not_the_console_page()
    {
        var response = await Api.Http.GetAsync("/api/v1/nothing-here", TestContext.Current.CancellationToken);

        await Problem.ReadAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_OpenAPI_document_lists_every_endpoint_and_the_key_scheme()
    {
        using var anonymous = Host.CreateClient();

        var response = await anonymous.GetAsync("/openapi/v1.json", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var paths = document.RootElement.GetProperty("paths");
        var expected = new Dictionary<string, string[]>
        {
            ["/api/v1/customers"] = ["post"],
            ["/api/v1/customers/{id}"] = ["patch"],
            ["/api/v1/customers/{id}/payment-methods"] = ["post"],
            ["/api/v1/customers/{id}/invoices"] = ["get"],
            ["/api/v1/subscriptions"] = ["post"],
            ["/api/v1/subscriptions/{id}/change-plan"] = ["post"],
            ["/api/v1/subscriptions/{id}/change-plan/preview"] = ["get"],
            ["/api/v1/subscriptions/{id}/cancel"] = ["post"],
            ["/api/v1/subscriptions/{id}/pause"] = ["post"],
            ["/api/v1/subscriptions/{id}/resume"] = ["post"],
            ["/api/v1/subscriptions/{id}/upcoming-invoice"] = ["get"],
            ["/api/v1/invoices/{id}/refunds"] = ["post"],
            ["/api/v1/invoices/{id}/credit-notes"] = ["post"],
            ["/api/v1/refunds/{id}"] = ["get"],
        };
        foreach (var (path, methods) in expected)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is missing from the OpenAPI document");
            foreach (var method in methods) Assert.True(item.TryGetProperty(method, out _), $"{method} {path} is missing");
        }
        Assert.DoesNotContain(paths.EnumerateObject(), p => !p.Name.StartsWith("/api/v1/"));
        Assert.True(document.RootElement.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("ApiKey", out _));
        var createParameters = paths.GetProperty("/api/v1/customers").GetProperty("post").GetProperty("parameters");
        Assert.Contains(createParameters.EnumerateArray(), p => p.GetProperty("name").GetString() == "Idempotency-Key");
    }

    [Fact]
    public async Task The_create_api_key_command_prints_a_working_key_once()
    {
        var name = $"cli-{Guid.NewGuid():N}";
        var (exitCode, stdout, stderr) = await HostProcess.RunToExitAsync(HostProcess.StartInfo(new Dictionary<string, string?>
        {
            ["ConnectionStrings__Billing"] = TestServers.DefaultConnectionString,
            ["Redis__Configuration"] = TestServers.RedisConfiguration,
        }, "create-api-key", name), TimeSpan.FromSeconds(60));

        Assert.True(exitCode == 0, stderr);
        var key = stdout.Trim();
        Assert.Matches("^bk_[0-9a-f]{12}_[0-9a-f]{64}$", key);
        Assert.Contains("not shown again", stderr);
        var stored = await Api.WithDbAsync(db => db.ApiKeys.SingleAsync(k => k.Name == name));
        Assert.Equal((key[3..15], 32), (stored.Prefix, stored.Hash.Length));
        using var client = Host.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/customers/{Guid.NewGuid()}/invoices", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public void Card_numbers_are_recognised_in_the_shapes_people_type_them()
    {
        Assert.True(BillingConsole.Domain.Common.CardNumbers.LooksLikeCardNumber("4242424242424242"));
        Assert.True(BillingConsole.Domain.Common.CardNumbers.LooksLikeCardNumber("card 4242 4242 4242 4242 exp"));
        Assert.True(BillingConsole.Domain.Common.CardNumbers.LooksLikeCardNumber("3782-822463-10005"));
        Assert.False(BillingConsole.Domain.Common.CardNumbers.LooksLikeCardNumber("123456789012"));
        Assert.False(BillingConsole.Domain.Common.CardNumbers.LooksLikeCardNumber("12345678-1234-7123-8123-123456789012"));
        Assert.False(BillingConsole.Domain.Common.CardNumbers.LooksLikeCardNumber("tok_1N3T00LkdIwHu7ix"));
        Assert.False(BillingConsole.Domain.Common.CardNumbers.LooksLikeCardNumber("tok_8d3f1234567890123456ab"));
        Assert.True(BillingConsole.Domain.Common.CardNumbers.LooksLikeCardNumber("ada+1234567890123456@example.com"));
        Assert.False(BillingConsole.Domain.Common.CardNumbers.LooksLikeCardNumber("2027-01-16T12:00:00Z"));
    }
}

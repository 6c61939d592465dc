using System.Text.Json;
using BillingConsole.Domain.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace BillingConsole.Persistence.Configurations;

internal static class ConfigurationExtensions
{
    /// <summary>Stores an enum as its snake_case name (past_due), the spelling the API and the console use too.</summary>
    public static PropertyBuilder<TEnum> AsSnakeCaseString<TEnum>(this PropertyBuilder<TEnum> property) where TEnum : struct, Enum =>
        property.HasConversion(new ValueConverter<TEnum, string>(
            value => value.ToSnakeCase(),
            text => ParseSnakeCase<TEnum>(text))).HasMaxLength(40);

    public static PropertyBuilder<TEnum?> AsSnakeCaseString<TEnum>(this PropertyBuilder<TEnum?> property) where TEnum : struct, Enum =>
        property.HasConversion(new ValueConverter<TEnum?, string?>(
            value => value.HasValue ? value.Value.ToSnakeCase() : null,
            text => text == null ? null : ParseSnakeCase<TEnum>(text))).HasMaxLength(40);

    /// <summary>Stores a value object read and written whole as one jsonb document, compared by its JSON.</summary>
    public static PropertyBuilder<TValue> AsJsonDocument<TValue>(this PropertyBuilder<TValue> property, JsonSerializerOptions json) where TValue : class =>
        property.HasColumnType("jsonb").HasConversion(
            value => JsonSerializer.Serialize(value, json),
            text => JsonSerializer.Deserialize<TValue>(text, json)!,
            new ValueComparer<TValue>((a, b) => JsonSerializer.Serialize(a, json) == JsonSerializer.Serialize(b, json),
                value => JsonSerializer.Serialize(value, json).GetHashCode(), value => value));

    /// <summary>Maps a private decimal field that a Money property reads from.</summary>
    public static PropertyBuilder<decimal> MoneyField<T>(this EntityTypeBuilder<T> entity, string field, string column) where T : class =>
        entity.Property<decimal>(field).HasField(field).HasColumnName(column).UsePropertyAccessMode(PropertyAccessMode.Field);

    public static PropertyBuilder<string> CurrencyColumn<T>(this EntityTypeBuilder<T> entity) where T : class =>
        entity.Property<string>("Currency").HasMaxLength(3).IsFixedLength();

    private static TEnum ParseSnakeCase<TEnum>(string text) where TEnum : struct, Enum =>
        EnumNames.TryParseSnakeCase<TEnum>(text, out var value) ? value : throw new InvalidOperationException($"Unknown {typeof(TEnum).Name} '{text}' in the database.");
}

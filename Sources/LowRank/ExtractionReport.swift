/// `lora_report.csv`: one row per module an extraction kept.
public enum ExtractionReport {
    public static let fileName = "lora_report.csv"
}
